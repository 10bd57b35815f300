package reconcile

import (
	"context"

	"github.com/klankermaker/km/state"
)

// AWS is everything reconcile needs from AWS; *state.AWS implements it. It is
// the union of each kind's interface, declared in the kind's file, and what
// apply's own records need (AppliedAPI). A kind's test fakes only its kind's
// interface (embedding a nil AWS, so any other call panics).
type AWS interface {
	ConfigParamAPI
	RoleAPI
	LogGroupAPI
	FunctionAPI
	ScheduleGroupAPI
	KeyAPI
	AliasAPI
	TokenAPI
	ScheduleAPI
	AppliedAPI
}

// AppliedAPI is the SSM slice apply's records use (applied.go, revoke.go).
type AppliedAPI interface {
	GetParameter(ctx context.Context, name string, decrypt bool) (state.Parameter, error)
	PutParameter(ctx context.Context, in state.PutParameterInput) (int64, error)
	DescribeParameters(ctx context.Context, path string) ([]state.Parameter, error)
	GetParameters(ctx context.Context, names []string, decrypt bool) (map[string]state.Parameter, error)
	DeleteParameter(ctx context.Context, name string) error
}
