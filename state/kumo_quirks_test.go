package state_test

// These tests pin down where kumo v0.33.1 differs from AWS, so that state's
// workarounds stay justified: when kumo fixes a gap, its test fails and the
// workaround can be revisited. They talk to kumo with raw SDK clients.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

var timeZero time.Time

func TestKumoQuirksSSM(t *testing.T) {
	ctx := context.Background()
	a, _, endpoint := statetest.NewKumo(t)
	raw := ssm.NewFromConfig(statetest.Config(t, endpoint))
	root := "/" + uniq(t)
	if _, err := raw.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(root + "/in/secret"), Type: ssmtypes.ParameterTypeSecureString, Value: aws.String("plain"),
		KeyId: aws.String("alias/some-key"), Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: root + "-out/x", Type: "String", Value: "v"}); err != nil {
		t.Fatal(err)
	}

	t.Run("DescribeParameters ignores the Path filter", func(t *testing.T) {
		res, err := raw.DescribeParameters(ctx, &ssm.DescribeParametersInput{
			ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{root + "/in"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		outside := 0
		for _, p := range res.Parameters {
			if !strings.HasPrefix(aws.ToString(p.Name), root+"/in/") {
				outside++
			}
		}
		if outside == 0 {
			t.Error("kumo honoured the Path filter")
		}
	})
	t.Run("KeyId and ARN are not returned, Tags on PutParameter are dropped", func(t *testing.T) {
		ps, err := a.DescribeParameters(ctx, root+"/in")
		if err != nil || len(ps) != 1 {
			t.Fatalf("%v, %v", ps, err)
		}
		if ps[0].KeyID != "" || ps[0].ARN != "" {
			t.Errorf("kumo now returns KeyId %q ARN %q", ps[0].KeyID, ps[0].ARN)
		}
		if tags, err := a.ListParameterTags(ctx, root+"/in/secret"); err != nil || len(tags) != 0 {
			t.Errorf("kumo now keeps PutParameter tags: %v, %v", tags, err)
		}
	})
	t.Run("SecureString read without decryption is the plaintext with a prefix", func(t *testing.T) {
		p, err := a.GetParameter(ctx, root+"/in/secret", false)
		if err != nil || p.Value != "kms:alias/aws/ssm:plain" {
			t.Errorf("GetParameter without decryption = %q, %v", p.Value, err)
		}
	})
}

func TestKumoQuirksKMS(t *testing.T) {
	ctx := context.Background()
	a, _, endpoint := statetest.NewKumo(t)
	raw := kms.NewFromConfig(statetest.Config(t, endpoint))
	k, err := a.CreateKey(ctx, "quirks", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "alias/" + uniq(t)
	for _, n := range []string{"-1", "-2"} {
		if err := a.CreateAlias(ctx, prefix+n, k.KeyID); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ListAliases with a Limit is not truncated", func(t *testing.T) {
		res, err := raw.ListAliases(ctx, &kms.ListAliasesInput{Limit: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Aliases) != 1 || res.Truncated || res.NextMarker != nil {
			t.Errorf("ListAliases Limit 1: %d aliases, Truncated %v, NextMarker %v", len(res.Aliases), res.Truncated, res.NextMarker)
		}
	})
	for _, op := range []struct {
		name string
		call func() error
	}{
		{"UpdateAlias", func() error {
			_, err := raw.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(prefix + "-1"), TargetKeyId: aws.String(k.KeyID)})
			return err
		}},
		{"CancelKeyDeletion", func() error {
			_, err := raw.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(k.KeyID)})
			return err
		}},
	} {
		t.Run(op.name+" is InvalidAction", func(t *testing.T) {
			var apiErr smithy.APIError
			if err := op.call(); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidAction" {
				t.Errorf("%s: %v", op.name, err)
			}
		})
	}
}

func TestKumoQuirksScheduler(t *testing.T) {
	ctx := context.Background()
	a, _, endpoint := statetest.NewKumo(t)
	raw := scheduler.NewFromConfig(statetest.Config(t, endpoint))
	g1, g2 := uniq(t)+"-1", uniq(t)+"-2"
	for _, g := range []string{g1, g2} {
		if _, err := a.CreateScheduleGroup(ctx, g, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.CreateSchedule(ctx, testSchedule(g2, "s")); err != nil {
		t.Fatal(err)
	}
	t.Run("ListSchedules ignores GroupName and NamePrefix", func(t *testing.T) {
		res, err := raw.ListSchedules(ctx, &scheduler.ListSchedulesInput{GroupName: aws.String(g1), NamePrefix: aws.String("zzz")})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range res.Schedules {
			found = found || aws.ToString(s.GroupName) == g2
		}
		if !found {
			t.Error("kumo filtered by group")
		}
	})
	t.Run("DeleteScheduleGroup refuses a group with schedules", func(t *testing.T) {
		// AWS deletes the group's schedules with it.
		err := a.DeleteScheduleGroup(ctx, g2)
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ConflictException" {
			t.Errorf("DeleteScheduleGroup: %v", err)
		}
	})
}

func TestKumoQuirksLambdaIAMLogs(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	name := uniq(t)
	f, err := a.CreateFunction(ctx, state.Function{Name: name, RoleARN: "arn:aws:iam::000000000000:role/r", LogGroup: "/custom/" + name}, []byte("zip"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no RevisionId, LoggingConfig dropped", func(t *testing.T) {
		if f.RevisionID != "" || f.LogGroup != "" {
			t.Errorf("kumo now returns RevisionId %q LogGroup %q", f.RevisionID, f.LogGroup)
		}
	})
	t.Run("Invoke without a runtime poller fails", func(t *testing.T) {
		_, _, err := a.Invoke(ctx, name, []byte(`{}`))
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ServiceException" {
			t.Errorf("Invoke: %v", err)
		}
	})
	t.Run("IAM and STS disagree on the account id", func(t *testing.T) {
		r, err := a.CreateRole(ctx, name, testTrust, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := a.CallerIdentity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.ARN, ":"+id.Account+":") {
			t.Errorf("role %s now in account %s", r.ARN, id.Account)
		}
	})
	t.Run("JSON filter patterns match nothing", func(t *testing.T) {
		group := "/aws/lambda/" + name
		if err := a.CreateLogGroup(ctx, group, nil); err != nil {
			t.Fatal(err)
		}
		if err := a.PutLogEvents(ctx, group, "s", []state.LogEvent{{Message: `{"sandbox_id":"sb-1"}`}}); err != nil {
			t.Fatal(err)
		}
		json, err := a.FilterLogEvents(ctx, group, `{ $.sandbox_id = "sb-1" }`, timeZero, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		term, err := a.FilterLogEvents(ctx, group, `"sb-1"`, timeZero, timeZero)
		if err != nil {
			t.Fatal(err)
		}
		if len(json) != 0 || len(term) != 1 {
			t.Errorf("JSON pattern matched %d, term pattern %d; want 0 and 1", len(json), len(term))
		}
	})
}
