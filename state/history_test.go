package state_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// GetParameterHistory follows NextToken to the end, asks for decryption
// when told, and returns the versions oldest first.
func TestGetParameterHistoryReadsAllPages(t *testing.T) {
	v := func(n int64, val string) ssmtypes.ParameterHistory {
		return ssmtypes.ParameterHistory{Name: aws.String("/sandbox/sb-1/github-token"), Version: n, Value: aws.String(val),
			Description: aws.String("d" + val), Type: ssmtypes.ParameterTypeSecureString, LastModifiedDate: aws.Time(time.Unix(n, 0))}
	}
	var decrypt []bool
	fake, served := strictPages(t, "GetParameterHistory",
		func(in any) string {
			req := in.(*ssm.GetParameterHistoryInput)
			decrypt = append(decrypt, aws.ToBool(req.WithDecryption) && aws.ToInt32(req.MaxResults) == 50)
			return aws.ToString(req.NextToken)
		},
		[]page{
			{"", &ssm.GetParameterHistoryOutput{Parameters: []ssmtypes.ParameterHistory{v(3, "c"), v(1, "a")}, NextToken: aws.String("t1")}},
			{"t1", &ssm.GetParameterHistoryOutput{Parameters: []ssmtypes.ParameterHistory{v(2, "b")}}},
		})
	a, _ := statetest.Client(t, "http://127.0.0.1:1", state.Options{APIOptions: []func(*middleware.Stack) error{fake}})
	got, err := a.GetParameterHistory(context.Background(), "/sandbox/sb-1/github-token", true)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, p := range got {
		vals = append(vals, p.Value+p.Description)
	}
	if !slices.Equal(vals, []string{"ada", "bdb", "cdc"}) || served() != 2 || !slices.Equal(decrypt, []bool{true, true}) {
		t.Errorf("history %v after %d pages (decrypt, 50 a page: %v)", vals, served(), decrypt)
	}
}

// kumo lacks GetParameterHistory: the error says so (ErrUnsupported), so
// the refresher falls back to the current version.
func TestKumoHasNoParameterHistory(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/github-token"
	if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "SecureString", Value: "ghs_secretValue000000000000"}); err != nil {
		t.Fatal(err)
	}
	_, err := a.GetParameterHistory(ctx, name, true)
	if !errors.Is(err, state.ErrUnsupported) {
		t.Fatalf("GetParameterHistory on kumo: %v, want ErrUnsupported (if kumo learned it, the history path runs on kumo too: update the docs)", err)
	}
	if strings.Contains(err.Error(), "ghs_secretValue") {
		t.Error("the error shows the value")
	}
}
