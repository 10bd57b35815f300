package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/reconcile"
)

// writeTestPlan saves a one-change plan file and returns its path.
func writeTestPlan(t *testing.T) string {
	t.Helper()
	p := &reconcile.Plan{Prefix: "km", Region: "us-east-1", DeclarationHash: strings.Repeat("cd", 32), Changes: []reconcile.Change{{
		Address: "aws_cloudwatch_log_group.refresher", Type: "aws_cloudwatch_log_group", ID: "/aws/lambda/km-github-token-refresher",
		Action: reconcile.Update, Reason: "live retention_in_days differs from the declaration",
		Before:       map[string]string{"name": "/aws/lambda/km-github-token-refresher", "retention_in_days": "7"},
		After:        map[string]string{"name": "/aws/lambda/km-github-token-refresher", "retention_in_days": "30"},
		Precondition: "retention=7",
	}}}
	f, err := reconcile.NewPlanFile(p, reconcile.PlanMeta{PlanID: "0f8fad5b-d9cb-469f-a165-70867728950e", KMVersion: "test", Declaration: "km.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := reconcile.WritePlanFile(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

func runKM(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestShowCommand(t *testing.T) {
	path := writeTestPlan(t)
	for _, tc := range []struct{ format, want string }{
		{"text", `~ retention_in_days = "7" -> "30"`},
		{"json", `"change": {` + "\n" + `        "actions": [` + "\n" + `          "update"`},
		{"markdown", "**Plan:** 0 to add, 1 to change, 0 to destroy."},
	} {
		code, out, errOut := runKM(t, "show", "--format", tc.format, path)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("km show --format %s: exit %d, stderr %q, output lacks %q:\n%s", tc.format, code, errOut, tc.want, out)
		}
	}
	notPlan := filepath.Join(t.TempDir(), "km.yaml")
	if err := os.WriteFile(notPlan, []byte("region: us-east-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runKM(t, "show", notPlan); code != 1 || !strings.Contains(errOut, "not a km plan file") {
		t.Errorf("km show km.yaml: exit %d, %q", code, errOut)
	}
}

func TestCommentCommand(t *testing.T) {
	sim := githubsim.New(githubsim.WithOpenAPIValidation())
	defer sim.Close()
	const token = "ghs_cmdcommenttoken000000000000000000"
	sim.SetCommentToken(token)
	t.Setenv("KM_GITHUB_API_URL", sim.URL)
	t.Setenv("KM_CONFIG", filepath.Join(t.TempDir(), "absent.yaml"))
	path := writeTestPlan(t)

	t.Setenv("GITHUB_TOKEN", "")
	if code, _, errOut := runKM(t, "comment", "--repo", "acme/infra", "--pr", "5", path); code != 1 || !strings.Contains(errOut, "GITHUB_TOKEN is not set") {
		t.Errorf("without GITHUB_TOKEN: exit %d, %q", code, errOut)
	}
	t.Setenv("GITHUB_TOKEN", token)
	code, out, errOut := runKM(t, "comment", "--repo", "acme/infra", "--pr", "5", path)
	if code != 0 || !strings.Contains(out, "Plan comment on acme/infra#5 (1 part(s); 1 created") {
		t.Fatalf("km comment: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if cs := sim.Comments("acme", "infra", 5); len(cs) != 1 || !strings.Contains(cs[0].Body, "<!-- km:plan marker=km.yaml:km part=1 -->") {
		t.Fatalf("comments: %+v", cs)
	}
	sim.FailNext("", "/repos/acme/infra/issues/6/comments", 403)
	code, _, errOut = runKM(t, "comment", "--repo", "acme/infra", "--pr", "6", path)
	if code == 0 || strings.Contains(errOut, token) {
		t.Errorf("a failed post: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runKM(t, "comment", "--pr", "5", path); code == 0 {
		t.Errorf("km comment without --repo succeeded")
	}
	if errs := sim.ValidationErrors(); len(errs) > 0 {
		t.Errorf("OpenAPI: %v", errs)
	}
}
