package reconcile

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/policyeval"
)

// grants flattens a policy document into "action resource" lines (with the
// condition keys, if any, appended).
func grants(t *testing.T, doc string) []string {
	t.Helper()
	var p struct {
		Statement []struct {
			Effect    string
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	list := func(v any) []string {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, s := range x {
				out = append(out, s.(string))
			}
			return out
		}
		t.Fatalf("unexpected %T in policy", v)
		return nil
	}
	var out []string
	for _, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Fatalf("statement with effect %q", st.Effect)
		}
		var conds []string
		for op, kv := range st.Condition {
			for k := range kv {
				conds = append(conds, op+":"+k)
			}
		}
		sort.Strings(conds)
		for _, a := range list(st.Action) {
			for _, r := range list(st.Resource) {
				out = append(out, strings.TrimSpace(a+" "+r+" "+strings.Join(conds, ",")))
			}
		}
	}
	sort.Strings(out)
	return out
}

// The refresher's role grants exactly what the refresher does, each on the
// narrowest resource IAM allows. KMS use is granted by the key policies,
// which name the role.
func TestRefresherPolicyIsLeastPrivilege(t *testing.T) {
	e := policyEnv{Region: "us-east-1", Account: "123456789012", Prefix: "km", Function: "km-github-token-refresher"}
	want := []string{
		"lambda:InvokeFunction arn:aws:lambda:us-east-1:123456789012:function:km-github-token-refresher",
		"logs:CreateLogStream arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/km-github-token-refresher:*",
		"logs:PutLogEvents arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/km-github-token-refresher:*",
		"ssm:AddTagsToResource arn:aws:ssm:us-east-1:123456789012:parameter/sandbox/*/github-token*",
		"ssm:DescribeParameters *",
		"ssm:GetParameter arn:aws:ssm:us-east-1:123456789012:parameter/km/config/github/*",
		"ssm:GetParameter arn:aws:ssm:us-east-1:123456789012:parameter/sandbox/*/github-token*",
		"ssm:GetParameterHistory arn:aws:ssm:us-east-1:123456789012:parameter/sandbox/*/github-token*",
		"ssm:GetParameters arn:aws:ssm:us-east-1:123456789012:parameter/km/config/github/*",
		"ssm:PutParameter arn:aws:ssm:us-east-1:123456789012:parameter/sandbox/*/github-token*",
	}
	got := grants(t, refresherPolicy(e))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("refresher policy grants:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The scheduler's role may invoke the refresher and nothing else.
func TestSchedulerPolicyInvokesOnlyTheRefresher(t *testing.T) {
	e := policyEnv{Region: "us-east-1", Account: "123456789012", Prefix: "km", Function: "km-github-token-refresher"}
	got := grants(t, schedulerPolicy(e))
	for _, g := range got {
		if !strings.HasPrefix(g, "lambda:InvokeFunction arn:aws:lambda:us-east-1:123456789012:function:km-github-token-refresher") {
			t.Errorf("scheduler role grants %s", g)
		}
	}
	if len(got) == 0 {
		t.Fatal("scheduler role grants nothing")
	}
}

// The account administers km's keys and may not use them: evaluated as AWS
// does, an administrator whose IAM policy allows kms:* gets every
// administration action and no use, and no grant.
func TestKeyPoliciesKeepTheAccountToAdministration(t *testing.T) {
	e := policyEnv{Region: "us-east-1", Account: "123456789012", Prefix: "km", Function: "km-github-token-refresher"}
	refresher := "arn:aws:iam::123456789012:role/km-github-token-refresher"
	admin := policyeval.Identity{
		ARN:      "arn:aws:iam::123456789012:role/admin",
		Policies: []*policyeval.Policy{policyeval.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)},
	}
	for name, doc := range map[string]string{
		"sandbox key": keyPolicy(e, "sb-1", "arn:aws:iam::123456789012:role/sb-1", refresher),
		"App key":     appKeyPolicy(e, refresher),
	} {
		pol, err := policyeval.Parse(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, st := range pol.Statements {
			for _, a := range st.Actions {
				if strings.Contains(a, "*") {
					t.Errorf("%s: statement %s uses the wildcard action %s; enumerate", name, st.Sid, a)
				}
			}
		}
		for _, c := range []struct {
			action string
			allow  bool
		}{
			{"kms:PutKeyPolicy", true}, {"kms:ScheduleKeyDeletion", true}, {"kms:CancelKeyDeletion", true},
			{"kms:DescribeKey", true}, {"kms:GetKeyPolicy", true}, {"kms:TagResource", true}, {"kms:CreateAlias", true},
			{"kms:RevokeGrant", true}, {"kms:DisableKey", true},
			{"kms:Decrypt", false}, {"kms:Encrypt", false}, {"kms:ReEncryptFrom", false}, {"kms:ReEncryptTo", false},
			{"kms:GenerateDataKey", false}, {"kms:GenerateDataKeyWithoutPlaintext", false}, {"kms:GenerateDataKeyPair", false},
			{"kms:CreateGrant", false}, {"kms:RetireGrant", false}, {"kms:ImportKeyMaterial", false},
		} {
			// Even through SSM for the right parameter, untagged.
			ctx := map[string][]string{
				"kms:ViaService":                      {"ssm.us-east-1.amazonaws.com"},
				"kms:EncryptionContext:PARAMETER_ARN": {"arn:aws:ssm:us-east-1:123456789012:parameter/sandbox/sb-1/github-token"},
			}
			got, err := policyeval.EvaluateKMS(pol, admin, policyeval.Request{Action: c.action, Resource: "arn:aws:kms:us-east-1:123456789012:key/k", Context: ctx})
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != c.allow {
				t.Errorf("%s: an IAM kms:* administrator %s: allowed=%v, want %v (%s)", name, c.action, got.Allowed, c.allow, got.Reason)
			}
		}
	}
}
