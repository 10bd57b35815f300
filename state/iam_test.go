package state_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

const testTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func TestRoleRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	name := uniq(t)

	if _, err := a.GetRole(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("GetRole missing: %v, want ErrNotFound", err)
	}
	r, err := a.CreateRole(ctx, name, testTrust, "km refresher", map[string]string{"km:managed": "true"})
	if err != nil || r.ARN == "" {
		t.Fatalf("CreateRole = %+v, %v", r, err)
	}
	if _, err := a.CreateRole(ctx, name, testTrust, "", nil); !errors.Is(err, state.ErrAlreadyExists) {
		t.Errorf("CreateRole twice: %v, want ErrAlreadyExists", err)
	}
	policies := map[string]string{
		"ssm": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:PutParameter","Resource":"arn:aws:ssm:*:*:parameter/sandbox/*"}]}`,
		"kms": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"StringLike":{"kms:RequestAlias":"alias/km-github-token-*"}}}]}`,
	}
	for pn, doc := range policies {
		if err := a.PutRolePolicy(ctx, name, pn, doc); err != nil {
			t.Fatal(err)
		}
	}
	trust2 := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if err := a.UpdateAssumeRolePolicy(ctx, name, trust2); err != nil {
		t.Fatal(err)
	}
	got, err := a.GetRole(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.ARN != r.ARN || got.AssumeRolePolicy != trust2 || got.Description != "km refresher" || !maps.Equal(got.InlinePolicies, policies) {
		t.Errorf("GetRole = %+v", got)
	}

	if err := a.DeleteRolePolicy(ctx, name, "nope"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DeleteRolePolicy missing: %v, want ErrNotFound", err)
	}
	rec.Reset()
	if err := a.DeleteRole(ctx, name); err != nil {
		t.Fatal(err)
	}
	if got := ops(rec.Calls()); !slices.Equal(got, []string{"ListRolePolicies", "DeleteRolePolicy", "DeleteRolePolicy", "DeleteRole"}) {
		t.Errorf("DeleteRole calls %v, want the inline policies deleted first", got)
	}
	if err := a.DeleteRole(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DeleteRole twice: %v, want ErrNotFound", err)
	}
}
