package reconcile

import (
	"context"
	"time"

	"github.com/klankermaker/km/state"
)

// The interfaces below are the slice of state.AWS that reconcile uses; tests may
// satisfy them with something else.

// SSM reads and writes parameters.
type SSM interface {
	DescribeParameters(ctx context.Context, path string) ([]state.Parameter, error)
	GetParameters(ctx context.Context, names []string, decrypt bool) (map[string]state.Parameter, error)
	GetParameter(ctx context.Context, name string, decrypt bool) (state.Parameter, error)
	PutParameter(ctx context.Context, in state.PutParameterInput) (int64, error)
	DeleteParameter(ctx context.Context, name string) error
}

// KMS reads and writes keys and aliases.
type KMS interface {
	DescribeKey(ctx context.Context, keyIDOrAlias string) (state.Key, error)
	GetKeyPolicy(ctx context.Context, keyID string) (string, error)
	ListAliases(ctx context.Context, prefix string) ([]state.Alias, error)
	CreateKey(ctx context.Context, description, policy string, tags map[string]string) (state.Key, error)
	PutKeyPolicy(ctx context.Context, keyID, policy string) error
	CreateAlias(ctx context.Context, alias, keyID string) error
	UpdateAlias(ctx context.Context, alias, keyID string) error
	DeleteAlias(ctx context.Context, alias string) error
	ScheduleKeyDeletion(ctx context.Context, keyID string, days int32) (time.Time, error)
	CancelKeyDeletion(ctx context.Context, keyID string) error
}

// Scheduler reads and writes schedules and their group.
type Scheduler interface {
	ListSchedules(ctx context.Context, group, namePrefix string) ([]state.ScheduleSummary, error)
	GetSchedule(ctx context.Context, group, name string) (state.Schedule, error)
	CreateSchedule(ctx context.Context, s state.Schedule) (string, error)
	UpdateSchedule(ctx context.Context, s state.Schedule) error
	DeleteSchedule(ctx context.Context, group, name string) error
	GetScheduleGroup(ctx context.Context, name string) (string, error)
	CreateScheduleGroup(ctx context.Context, name string, tags map[string]string) (string, error)
}

// Lambda reads and writes the refresher function.
type Lambda interface {
	GetFunction(ctx context.Context, name string) (state.Function, error)
	CreateFunction(ctx context.Context, f state.Function, zip []byte) (state.Function, error)
	UpdateFunctionCode(ctx context.Context, name string, zip []byte, architecture, revisionID string) (state.Function, error)
	FunctionRecursion(ctx context.Context, name string) (string, error)
	PutFunctionRecursion(ctx context.Context, name, mode string) error
	UpdateFunctionConfiguration(ctx context.Context, f state.Function, revisionID string) (state.Function, error)
}

// IAM reads and writes roles.
type IAM interface {
	GetRole(ctx context.Context, name string) (state.Role, error)
	CreateRole(ctx context.Context, name, assumePolicy, description string, tags map[string]string) (state.Role, error)
	UpdateAssumeRolePolicy(ctx context.Context, name, policy string) error
	PutRolePolicy(ctx context.Context, role, policyName, doc string) error
}

// Logs reads and writes the log group.
type Logs interface {
	DescribeLogGroup(ctx context.Context, name string) (state.LogGroup, error)
	CreateLogGroup(ctx context.Context, name string, tags map[string]string) error
	PutRetentionPolicy(ctx context.Context, name string, days int32) error
}

// AWS is everything reconcile needs from AWS; *state.AWS implements it.
type AWS interface {
	SSM
	KMS
	KeyScanner
	Scheduler
	Lambda
	IAM
	Logs
}

// KeyScanner finds keys by tag when an alias went missing.
type KeyScanner interface {
	ListKeys(ctx context.Context) ([]string, error)
	ListResourceTags(ctx context.Context, keyID string) (map[string]string, error)
}
