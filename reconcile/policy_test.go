package reconcile

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
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
