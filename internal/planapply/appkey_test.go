package planapply_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/policyeval"
	"github.com/klankermaker/km/internal/testkeys"
	"github.com/klankermaker/km/reconcile"
)

// The App private key gets its own KMS key (alias/{prefix}-github-app), and
// every write of the private-key parameter names it. kumo neither enforces
// nor returns an SSM KeyId, so the SDK requests are what is checked. Plan
// sees a rotated or re-keyed App key without ever decrypting it.
func TestAppKeyEncryptsThePrivateKey(t *testing.T) {
	f := newFixture(t, "kmapk", []string{"sb-apk1"})
	n := names.New(f.Prefix)
	alias := "alias/" + f.Prefix + "-github-app"
	pemBefore, err := os.ReadFile(f.Written.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	f.Apply()

	// The key: created with km's tags and a policy naming the refresher.
	var created []*kms.CreateKeyInput
	for _, c := range f.Rec.Operation("CreateKey") {
		if in := c.Input.(*kms.CreateKeyInput); strings.Contains(aws.ToString(in.Description), "App private key") {
			created = append(created, in)
		}
	}
	if len(created) != 1 {
		t.Fatalf("CreateKey for the App key called %d times", len(created))
	}
	tags := map[string]string{}
	for _, tg := range created[0].Tags {
		tags[aws.ToString(tg.TagKey)] = aws.ToString(tg.TagValue)
	}
	if tags["km:purpose"] != "github-app" || tags["km:managed"] != "true" || tags["km:prefix"] != f.Prefix || tags["km:sandbox"] != "" {
		t.Errorf("App key tags = %v", tags)
	}
	pol, err := policyeval.Parse(aws.ToString(created[0].Policy))
	if err != nil {
		t.Fatalf("the App key policy: %v", err)
	}
	sids := map[string]bool{}
	for _, st := range pol.Statements {
		sids[st.Sid] = true
	}
	if !sids["RefresherDecryptsViaSSM"] || !sids["OperatorsUploadViaSSM"] || !sids["KeyAdministration"] || len(sids) != 3 {
		t.Errorf("App key policy statements = %v", sids)
	}
	if _, err := f.AWS.DescribeKey(context.Background(), alias); err != nil {
		t.Fatalf("alias %s: %v", alias, err)
	}

	// Every write of the private key names the App key.
	puts := privateKeyPuts(t, f, n)
	if len(puts) != 1 {
		t.Fatalf("PutParameter %s called %d times", n.PrivateKeyParam(), len(puts))
	}
	for _, in := range puts {
		if aws.ToString(in.KeyId) != alias || in.Type != "SecureString" {
			t.Errorf("PutParameter %s: KeyId %q type %s, want %s SecureString", n.PrivateKeyParam(), aws.ToString(in.KeyId), in.Type, alias)
		}
	}
	if strings.Contains(f.Out.String(), "PRIVATE KEY") || strings.Contains(f.Out.String(), string(pemBefore[40:80])) {
		t.Error("apply output shows the private key")
	}

	// A rotated key file: plan sees it through the fingerprint, without
	// decrypting anything; apply writes it with the App key again.
	if err := os.WriteFile(f.Written.KeyPath, testkeys.NewPEM(t, false), 0o600); err != nil {
		t.Fatal(err)
	}
	f.Rec.Reset()
	p := f.Plan()
	noDecryption(t, f, "plan after rotating the key file")
	if got := fleettest.Actions(p)["aws_ssm_parameter.private_key"]; got != reconcile.Update {
		t.Fatalf("plan after rotating the key file: private_key %q, want update (%v)", got, fleettest.Actions(p))
	}
	f.Rec.Reset()
	f.Apply()
	if puts := privateKeyPuts(t, f, n); len(puts) != 1 || aws.ToString(puts[0].KeyId) != alias || !aws.ToBool(puts[0].Overwrite) {
		t.Fatalf("rotation wrote %d times (%+v)", len(puts), puts)
	}

	// The App key goes missing (an older deployment, or deleted out of
	// band): plan creates it and re-encrypts the private key with it.
	if err := f.AWS.DeleteAlias(context.Background(), alias); err != nil {
		t.Fatal(err)
	}
	f.Rec.Reset()
	p = f.Plan()
	noDecryption(t, f, "plan with the App key missing")
	acts := fleettest.Actions(p)
	if acts["aws_kms_key.github_app"] != reconcile.Create || acts["aws_kms_alias.github_app"] != reconcile.Create || acts["aws_ssm_parameter.private_key"] != reconcile.Update {
		t.Fatalf("plan with the App key missing: %v", acts)
	}
	for _, c := range p.Changes {
		if c.Address == "aws_ssm_parameter.private_key" && !strings.Contains(c.Reason, "is new: apply re-encrypts the private key") {
			t.Errorf("private key reason: %q", c.Reason)
		}
	}
	f.Rec.Reset()
	f.Apply()
	if puts := privateKeyPuts(t, f, n); len(puts) != 1 || aws.ToString(puts[0].KeyId) != alias {
		t.Fatalf("re-encryption wrote %d times (%+v)", len(puts), puts)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after re-encrypting: %v", fleettest.Actions(p))
	}
}

func privateKeyPuts(t *testing.T, f *fixture, n names.Names) []*ssm.PutParameterInput {
	t.Helper()
	var out []*ssm.PutParameterInput
	for _, c := range f.Rec.Operation("PutParameter") {
		if in, ok := c.Input.(*ssm.PutParameterInput); ok && aws.ToString(in.Name) == n.PrivateKeyParam() {
			out = append(out, in)
		}
	}
	return out
}

// noDecryption fails if any recorded call asked SSM or KMS to decrypt.
func noDecryption(t *testing.T, f *fixture, when string) {
	t.Helper()
	for _, c := range f.Rec.Calls() {
		switch in := c.Input.(type) {
		case *ssm.GetParameterInput:
			if aws.ToBool(in.WithDecryption) {
				t.Errorf("%s: GetParameter %s with decryption", when, aws.ToString(in.Name))
			}
		case *ssm.GetParametersInput:
			if aws.ToBool(in.WithDecryption) {
				t.Errorf("%s: GetParameters %v with decryption", when, in.Names)
			}
		case *kms.DecryptInput:
			t.Errorf("%s: kms:Decrypt", when)
		}
	}
}

// A saved plan that repairs the App key's policy re-reads the App key before
// applying (km apply FILE): applied when unchanged since the plan, refused as
// stale when the policy changed again.
func TestAppKeyPolicyRepairFromAPlanFile(t *testing.T) {
	ctx := context.Background()
	fx := newReviewFixture(t, "kmapk2", "sb-apk2")
	if err := fx.session().PlanAndApply(ctx, planapply.ApplyOptions{AutoApprove: true}); err != nil {
		t.Fatal(err)
	}
	k, err := fx.aws.DescribeKey(ctx, "alias/"+fx.prefix+"-github-app")
	if err != nil {
		t.Fatal(err)
	}
	want, err := fx.aws.GetKeyPolicy(ctx, k.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	open := func(sid string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}`
	}
	for _, stale := range []bool{true, false} {
		if err := fx.aws.PutKeyPolicy(ctx, k.KeyID, open("Widened")); err != nil {
			t.Fatal(err)
		}
		path := fx.planOut("appkey.json")
		if stale {
			if err := fx.aws.PutKeyPolicy(ctx, k.KeyID, open("WidenedAgain")); err != nil {
				t.Fatal(err)
			}
		}
		err := fx.session().ApplyPlanFile(ctx, path, planapply.ApplyOptions{})
		var se *reconcile.StaleError
		switch {
		case stale && (!errors.As(err, &se) || len(se.Conflicts) != 1 || se.Conflicts[0].Address != "aws_kms_key.github_app"):
			t.Fatalf("apply FILE after the App key policy changed again: %v", err)
		case !stale && err != nil:
			t.Fatalf("apply FILE: %v", err)
		}
		got, err := fx.aws.GetKeyPolicy(ctx, k.KeyID)
		if err != nil {
			t.Fatal(err)
		}
		if restored := got == want; restored == stale {
			t.Errorf("stale=%v: the App key policy restored=%v:\n%s", stale, restored, got)
		}
	}
}
