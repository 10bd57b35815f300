package planapply_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// reviewFixture is a declaration wired to kumo and the GitHub simulator, for
// the review workflow (plan --out, show, apply FILE, comment).
type reviewFixture struct {
	t      *testing.T
	sim    *githubsim.Server
	aws    *state.AWS
	w      demo.Written
	dir    string
	prefix string
	extra  map[string]string
	out    bytes.Buffer
}

// newReviewFixture suffixes prefix and the sandbox ids with a random tag, so
// that a re-run in the same process (go test -count=N) starts from nothing.
func newReviewFixture(t *testing.T, prefix string, sandboxes ...string) *reviewFixture {
	t.Helper()
	tag := make([]byte, 3)
	_, _ = rand.Read(tag)
	prefix = fmt.Sprintf("%s%x", prefix, tag)
	sandboxes = append([]string(nil), sandboxes...)
	for i := range sandboxes {
		sandboxes[i] = fmt.Sprintf("%s-%x", sandboxes[i], tag)
	}
	aws, _, _ := statetest.NewKumo(t)
	sim := githubsim.New(githubsim.WithOpenAPIValidation())
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	w, err := demo.Write(sim, dir, demo.Options{Prefix: prefix, Sandboxes: sandboxes})
	if err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(dir, "refresher.zip")
	if err := os.WriteFile(zip, []byte("zip-"+prefix), 0o644); err != nil {
		t.Fatal(err)
	}
	return &reviewFixture{t: t, sim: sim, aws: aws, w: w, dir: dir, prefix: prefix, extra: map[string]string{"KM_REFRESHER_ZIP": zip}}
}

func (f *reviewFixture) env() planapply.Env {
	return planapply.Env{
		ConfigPath: f.w.ConfigPath,
		Getenv:     func(k string) string { return f.extra[k] },
		Stdout:     &f.out, Stderr: &f.out, AWS: f.aws,
	}
}

func (f *reviewFixture) session() *planapply.Session {
	f.t.Helper()
	s, err := planapply.Open(context.Background(), f.env())
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *reviewFixture) planOut(name string) string {
	f.t.Helper()
	path := filepath.Join(f.dir, name)
	if _, err := f.session().PlanCommand(context.Background(), planapply.PlanOptions{OutFile: path}); err != nil {
		f.t.Fatalf("km plan --out: %v", err)
	}
	return path
}

// TestPlanOutShowApplyFile is the review workflow end to end: km plan --out
// writes a documented plan file, km show renders it in the three formats, km
// apply FILE applies exactly it, and a second apply of it is refused.
func TestPlanOutShowApplyFile(t *testing.T) {
	ctx := context.Background()
	fx := newReviewFixture(t, "kmrev1", "sb-rev1")
	path := fx.planOut("plan.json")
	if !strings.Contains(fx.out.String(), "Saved the plan to: "+path) {
		t.Errorf("km plan --out does not say where it saved:\n%s", fx.out.String())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", st.Mode().Perm())
	}
	f, err := reconcile.ReadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := fx.session()
	if f.Account != s.Runtime.Account || f.Declaration != "km.yaml" || f.KMVersion == "" || f.Prefix != fx.prefix || f.DeclarationHash != s.Config.Hash {
		t.Errorf("plan file header: %+v", f)
	}
	if f.Summary.Add == 0 || f.Summary.Add != len(f.Changes) {
		t.Errorf("summary %+v for %d changes", f.Summary, len(f.Changes))
	}

	for _, tc := range []struct{ format, want string }{
		{"text", "Saved plan " + f.PlanID},
		{"json", `"plan_id": "` + f.PlanID + `"`},
		{"markdown", "### km plan for `km.yaml` (prefix `" + fx.prefix + "`, us-east-1)"},
	} {
		var b bytes.Buffer
		if err := planapply.ShowPlanFile(&b, path, tc.format, false); err != nil {
			t.Fatalf("km show --format %s: %v", tc.format, err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("km show --format %s lacks %q:\n%.400s", tc.format, tc.want, b.String())
		}
		if tc.format == "json" {
			var doc views.JSONPlan
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.ResourceChanges) != len(f.Changes) || doc.Account != f.Account {
				t.Errorf("km show --format json: %v, %d changes", err, len(doc.ResourceChanges))
			}
		}
	}
	if err := planapply.ShowPlanFile(&bytes.Buffer{}, fx.w.ConfigPath, "text", false); !errors.Is(err, reconcile.ErrNotPlanFile) {
		t.Errorf("km show km.yaml: %v", err)
	}

	if err := s.ApplyPlanFile(ctx, path, planapply.ApplyOptions{PlanOptions: planapply.PlanOptions{Targets: []string{"aws_iam_role.refresher"}}}); err == nil || !strings.Contains(err.Error(), "--target cannot be used with a plan file") {
		t.Fatalf("apply FILE --target: %v", err)
	}
	fx.out.Reset()
	if err := s.ApplyPlanFile(ctx, path, planapply.ApplyOptions{}); err != nil {
		t.Fatalf("km apply FILE: %v\n%s", err, fx.out.String())
	}
	if want := "Apply complete! Resources: " + strconv.Itoa(len(f.Changes)) + " added, 0 changed, 0 destroyed."; !strings.Contains(fx.out.String(), want) {
		t.Errorf("apply output lacks %q:\n%s", want, fx.out.String())
	}
	pl, err := fx.session().ComputePlan(ctx, "plan", planapply.PlanOptions{})
	if err != nil {
		t.Fatalf("plan after apply FILE (lock released?): %v", err)
	}
	if pl.Plan.HasChanges() {
		t.Errorf("after apply FILE the plan still has changes")
	}
	err = fx.session().ApplyPlanFile(ctx, path, planapply.ApplyOptions{})
	if !errors.Is(err, reconcile.ErrPlanApplied) {
		t.Fatalf("second km apply FILE: %v", err)
	}
	if errs := fx.sim.ValidationErrors(); len(errs) > 0 {
		t.Errorf("GitHub API calls break the OpenAPI description: %v", errs)
	}
}

// TestApplyFileStale: km apply FILE refuses a stale plan, writes nothing and
// releases the lock.
func TestApplyFileStale(t *testing.T) {
	ctx := context.Background()
	fx := newReviewFixture(t, "kmrev2", "sb-rev2")
	if err := fx.session().PlanAndApply(ctx, planapply.ApplyOptions{AutoApprove: true}); err != nil {
		t.Fatal(err)
	}
	logGroup := "/aws/lambda/" + fx.prefix + "-github-token-refresher"
	if err := fx.aws.PutRetentionPolicy(ctx, logGroup, 7); err != nil {
		t.Fatal(err)
	}
	path := fx.planOut("plan.json")
	if err := fx.aws.PutRetentionPolicy(ctx, logGroup, 90); err != nil {
		t.Fatal(err)
	}
	fx.out.Reset()
	err := fx.session().ApplyPlanFile(ctx, path, planapply.ApplyOptions{})
	var se *reconcile.StaleError
	if !errors.As(err, &se) || len(se.Conflicts) != 1 || se.Conflicts[0].Address != "aws_cloudwatch_log_group.refresher" {
		t.Fatalf("stale apply: %v", err)
	}
	if strings.Contains(fx.out.String(), "Apply complete") {
		t.Errorf("a stale plan was applied:\n%s", fx.out.String())
	}
	g, err := fx.aws.DescribeLogGroup(ctx, logGroup)
	if err != nil || g.RetentionDays != 90 {
		t.Errorf("the stale plan wrote: retention %d, %v", g.RetentionDays, err)
	}
	if _, err := fx.session().ComputePlan(ctx, "plan", planapply.PlanOptions{}); err != nil {
		t.Fatalf("the lock was not released: %v", err)
	}
}

// TestCommentPlansWithoutFile: km comment without PLANFILE plans (like km
// plan) and comments that, with the API from km.yaml's github.apiURL.
func TestCommentPlansWithoutFile(t *testing.T) {
	fx := newReviewFixture(t, "kmrev3", "sb-rev3")
	fx.sim.SetCommentToken(commentToken)
	fx.extra["GITHUB_TOKEN"] = commentToken
	res, err := planapply.Comment(context.Background(), fx.env(), planapply.CommentOptions{Repo: "my-org/infra", PR: 3})
	if err != nil {
		t.Fatal(err)
	}
	cs := fx.sim.Comments("my-org", "infra", 3)
	if len(cs) != 1 || res.Created != 1 || res.Marker != "km.yaml:"+fx.prefix {
		t.Fatalf("%d comments, result %+v", len(cs), res)
	}
	if !strings.Contains(cs[0].Body, "**Plan:** ") || !strings.Contains(cs[0].Body, "```diff") {
		t.Errorf("comment body:\n%.600s", cs[0].Body)
	}
	if errs := fx.sim.ValidationErrors(); len(errs) > 0 {
		t.Errorf("OpenAPI: %v", errs)
	}
}
