package planapply_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxes"
	"github.com/klankermaker/km/state"
)

var updateIAM = flag.Bool("update", false, "rewrite docs/iam/*.json from the AWS calls km makes")

// iamPrefix maps the SDK's service ids to IAM action prefixes.
var iamPrefix = map[string]string{
	"SSM": "ssm", "KMS": "kms", "Scheduler": "scheduler", "Lambda": "lambda",
	"IAM": "iam", "CloudWatch Logs": "logs",
}

// unscoped are the actions IAM grants only on "*" (no resource-level
// permissions), and the KMS actions on keys whose ids are random.
func unscoped(action string) bool {
	switch action {
	case "ssm:DescribeParameters", "scheduler:ListSchedules", "scheduler:ListScheduleGroups",
		"logs:DescribeLogGroups":
		return true
	}
	return strings.HasPrefix(action, "kms:")
}

// action is the IAM action of one recorded call ("" when none is needed).
func action(c state.Call) string {
	p, ok := iamPrefix[c.Service]
	if !ok {
		return "" // STS GetCallerIdentity needs no permission
	}
	if c.Service == "Lambda" && c.Operation == "Invoke" {
		return "lambda:InvokeFunction"
	}
	return p + ":" + c.Operation
}

// policy builds the documented policy for a set of actions, scoped to km's
// resource names for prefix km.
func policy(actions map[string]bool, planOnly bool) map[string]any {
	n := names.New("km")
	scope := map[string][]string{
		"ssm":       {"arn:aws:ssm:*:*:parameter/" + n.Prefix + "/*", "arn:aws:ssm:*:*:parameter/sandbox/*"},
		"scheduler": {"arn:aws:scheduler:*:*:schedule-group/" + n.ScheduleGroup(), "arn:aws:scheduler:*:*:schedule/" + n.ScheduleGroup() + "/*"},
		"lambda":    {"arn:aws:lambda:*:*:function:" + n.Function()},
		"iam":       {"arn:aws:iam::*:role/" + n.Prefix + "-github-token-*"},
		"logs":      {"arn:aws:logs:*:*:log-group:" + n.LogGroup(), "arn:aws:logs:*:*:log-group:" + n.LogGroup() + ":*"},
	}
	byService := map[string][]string{}
	var global []string
	for a := range actions {
		switch {
		case planOnly && (a == "ssm:PutParameter" || a == "ssm:DeleteParameter"):
			byService["lock"] = append(byService["lock"], a)
		case unscoped(a):
			global = append(global, a)
		default:
			svc := a[:strings.IndexByte(a, ':')]
			byService[svc] = append(byService[svc], a)
		}
	}
	var statements []any
	add := func(sid string, acts []string, resource any, cond map[string]any) {
		if len(acts) == 0 {
			return
		}
		sort.Strings(acts)
		st := map[string]any{"Sid": sid, "Effect": "Allow", "Action": acts, "Resource": resource}
		if cond != nil {
			st["Condition"] = cond
		}
		statements = append(statements, st)
	}
	add("StateLock", byService["lock"], "arn:aws:ssm:*:*:parameter"+n.LockParam(), nil)
	for _, svc := range []string{"ssm", "scheduler", "lambda", "iam", "logs"} {
		add(strings.ToUpper(svc[:1])+svc[1:]+"Resources", byService[svc], scope[svc], nil)
	}
	add("NoResourceLevelPermissions", global, "*", nil)
	if !planOnly {
		// Not SDK calls of km's own: SSM encrypts with the sandbox keys
		// and the App key on km's behalf (the first token, the App key
		// upload), and the roles are passed to Lambda and Scheduler. Never
		// kms:Decrypt: no key policy lets an operator decrypt, so granting
		// it here would only mislead (docs/security.md).
		add("EncryptThroughSSM", []string{"kms:Encrypt", "kms:GenerateDataKey"}, "*",
			map[string]any{"StringLike": map[string]any{"kms:ViaService": "ssm.*.amazonaws.com"}})
		// Creating with tags needs the tagging action too.
		add("TagOnCreate", []string{"iam:TagRole", "kms:TagResource", "logs:TagResource", "scheduler:TagResource"}, "*", nil)
		add("PassRefresherRoles", []string{"iam:PassRole"}, "arn:aws:iam::*:role/"+n.Prefix+"-github-token-*",
			map[string]any{"StringEquals": map[string]any{"iam:PassedToService": []string{"lambda.amazonaws.com", "scheduler.amazonaws.com"}}})
	}
	return map[string]any{"Version": "2012-10-17", "Statement": statements}
}

// TestOperatorPolicies runs every command against kumo, records the AWS
// calls, and checks docs/iam/km-plan.json (plan, list, show; read-only but
// for the state lock) and docs/iam/km-apply.json (everything) grant exactly
// them. go test ./internal/planapply -run TestOperatorPolicies -update
// rewrites the files.
func TestOperatorPolicies(t *testing.T) {
	f := newFixture(t, "kmiam", []string{"sb-iam1"})
	ctx := context.Background()
	readOnly := map[string]bool{}
	all := map[string]bool{}
	collect := func(into ...map[string]bool) {
		for _, c := range f.Rec.Calls() {
			if a := action(c); a != "" {
				for _, m := range into {
					m[a] = true
				}
			}
		}
		f.Rec.Reset()
	}
	// A key no km alias names: plan reads its tags to tell a leaked sandbox
	// key from someone else's (the account is never empty in practice).
	if _, err := f.AWS.CreateKey(ctx, "not km's", "", nil); err != nil {
		t.Fatal(err)
	}
	f.Rec.Reset()
	f.Plan()
	collect(readOnly, all)
	f.Apply()
	collect(all)
	f.Plan()
	if _, err := sandboxes.List(ctx, f.Session()); err != nil {
		t.Fatal(err)
	}
	collect(readOnly, all)

	// Out-of-band changes that apply repairs with update calls.
	n := names.New(f.Prefix)
	if err := f.AWS.PutRetentionPolicy(ctx, n.LogGroup(), 7); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AWS.UpdateFunctionCode(ctx, n.Function(), []byte("other"), "", ""); err != nil {
		t.Fatal(err)
	}
	live, err := f.AWS.GetFunction(ctx, n.Function())
	if err != nil {
		t.Fatal(err)
	}
	live.MemoryMB = 256
	if _, err := f.AWS.UpdateFunctionConfiguration(ctx, live, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.AWS.DeleteRolePolicy(ctx, n.RefresherRole(), "km"); err != nil {
		t.Fatal(err)
	}
	if err := f.AWS.UpdateAssumeRolePolicy(ctx, n.SchedulerRole(), `{"Version":"2012-10-17","Statement":[]}`); err != nil {
		t.Fatal(err)
	}
	sch, err := f.AWS.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.ID("sb-iam1")))
	if err != nil {
		t.Fatal(err)
	}
	sch.State = "DISABLED"
	if err := f.AWS.UpdateSchedule(ctx, sch); err != nil {
		t.Fatal(err)
	}
	key, err := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-iam1")))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AWS.PutKeyPolicy(ctx, key.KeyID, `{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	f.Rec.Reset()
	f.Apply()
	collect(all)

	// A key scheduled for deletion out of band: apply cancels the deletion
	// (kumo lacks CancelKeyDeletion and UpdateAlias; the attempts count).
	key, err = f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-iam1")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.AWS.ScheduleKeyDeletion(ctx, key.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	f.Rec.Reset()
	f.Apply()
	collect(all)
	if got, err := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-iam1"))); err != nil || got.State != "Enabled" {
		t.Fatalf("after repairing a key pending deletion the alias points at %+v (%v)", got, err)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after repairing the key: %v", fleettest.Actions(p))
	}
	f.Rec.Reset()

	// The sandbox lifecycle.
	if _, err := sandboxes.Create(ctx, f.Env(), sandboxes.CreateOptions{Profile: "my-profile", ID: f.ID("sb-iam2"), Principal: "arn:aws:iam::123456789012:role/km-sandbox-" + f.ID("sb-iam2"), AutoApprove: true}); err != nil {
		t.Fatal(err)
	}
	if err := sandboxes.Destroy(ctx, f.Env(), sandboxes.DestroyOptions{ID: f.ID("sb-iam2"), AutoApprove: true}); err != nil {
		t.Fatal(err)
	}

	collect(all)
	all["lambda:InvokeFunction"] = true // km refresh (TestRefreshFiresTheScheduleNow runs it)

	for _, tc := range []struct {
		file    string
		actions map[string]bool
		plan    bool
	}{{"km-plan.json", readOnly, true}, {"km-apply.json", all, false}} {
		got, _ := json.MarshalIndent(policy(tc.actions, tc.plan), "", "  ")
		got = append(got, '\n')
		path := filepath.Join("..", "..", "docs", "iam", tc.file)
		if *updateIAM {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("docs/iam/%s no longer matches the calls km makes; run go test ./internal/planapply -run TestOperatorPolicies -update\n%s", tc.file, got)
		}
	}
}
