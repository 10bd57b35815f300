package planapply_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// fixture is one declaration wired to kumo and githubsim.
type fixture struct {
	t       *testing.T
	sim     *githubsim.Server
	aws     *state.AWS
	rec     *state.Recorder
	written demo.Written
	dir     string
	zip     string
	prefix  string
	run     string // the tag newFixture appended to prefix and sandbox ids
	kumoURL string
	out     bytes.Buffer
	proxy   *refreshertest.Proxy // set by withSSMHistory: every client goes through it
}

// newFixture suffixes prefix and the sandbox ids with a random run tag (kumo's
// store outlives a test: go test -count=2 must not meet the first run's
// resources); f.id maps a sandbox id as written in the test to its tagged form.
func newFixture(t *testing.T, prefix string, sandboxes []string) *fixture {
	t.Helper()
	tag := make([]byte, 3)
	if _, err := rand.Read(tag); err != nil {
		t.Fatal(err)
	}
	run := fmt.Sprintf("%x", tag)
	prefix += run
	sandboxes = append([]string(nil), sandboxes...)
	for i := range sandboxes {
		sandboxes[i] += "-" + run
	}
	aws, rec, kumoURL := statetest.NewKumo(t)
	sim := githubsim.New()
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	w, err := demo.Write(sim, dir, demo.Options{Prefix: prefix, Sandboxes: sandboxes})
	if err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(dir, "refresher.zip")
	if err := os.WriteFile(zip, []byte("zip-v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sweep(aws, prefix, run, sandboxes) })
	return &fixture{t: t, sim: sim, aws: aws, rec: rec, written: w, dir: dir, zip: zip, prefix: prefix, run: run, kumoURL: kumoURL}
}

// sweep removes what a test left in kumo under its prefix and run tag.
// kumo keeps one store per process, and past 100 aliases or schedules its
// listings return a random subset (DESIGN's measured gaps), so a crowded
// store makes later tests' orphan scans see only part of it: each test
// leaves the store as small as it found it. Errors are ignored: the sweep
// is hygiene, not an assertion.
func sweep(aws *state.AWS, prefix, run string, sandboxes []string) {
	ctx := context.Background()
	n := names.New(prefix)
	mine := func(id string) bool { return strings.HasSuffix(id, "-"+run) }
	aliases := map[string]bool{"alias/" + prefix + "-github-app": true}
	for _, id := range sandboxes {
		aliases[n.KeyAlias(id)] = true
	}
	if as, err := aws.ListAliases(ctx, "alias/"+prefix+"-"); err == nil {
		for _, a := range as {
			aliases[a.Name] = true
		}
	}
	for a := range aliases {
		if k, err := aws.DescribeKey(ctx, a); err == nil {
			_, _ = aws.ScheduleKeyDeletion(ctx, k.KeyID, 7)
		}
		_ = aws.DeleteAlias(ctx, a)
	}
	schedules := map[string]bool{}
	for _, id := range sandboxes {
		schedules[n.Schedule(id)] = true
	}
	if ss, err := aws.ListSchedules(ctx, n.ScheduleGroup(), ""); err == nil {
		for _, sc := range ss {
			if sc.Group == n.ScheduleGroup() {
				schedules[sc.Name] = true
			}
		}
	}
	for sc := range schedules {
		_ = aws.DeleteSchedule(ctx, n.ScheduleGroup(), sc)
	}
	var params []string
	for _, path := range []string{"/" + prefix, "/sandbox"} {
		ps, err := aws.DescribeParameters(ctx, path)
		if err != nil {
			continue
		}
		for _, p := range ps {
			parts := strings.Split(p.Name, "/")
			if strings.HasPrefix(p.Name, "/"+prefix+"/") || (len(parts) > 2 && parts[1] == "sandbox" && mine(parts[2])) {
				params = append(params, p.Name)
			}
		}
	}
	_ = aws.DeleteParameters(ctx, params)
}

// id is sandbox id sb as tagged for this run.
func (f *fixture) id(sb string) string { return sb + "-" + f.run }

// ids is id for each of sbs, in a new slice.
func (f *fixture) ids(sbs []string) []string {
	out := make([]string, len(sbs))
	for i, sb := range sbs {
		out[i] = f.id(sb)
	}
	return out
}

func (f *fixture) env() planapply.Env {
	return planapply.Env{
		ConfigPath: f.written.ConfigPath,
		Getenv: func(k string) string {
			if k == "KM_REFRESHER_ZIP" {
				return f.zip
			}
			return ""
		},
		Stdout: &f.out, Stderr: &f.out, AWS: f.aws,
	}
}

func (f *fixture) session() *planapply.Session {
	f.t.Helper()
	s, err := planapply.Open(context.Background(), f.env())
	if err != nil {
		f.t.Fatalf("open: %v", err)
	}
	return s
}

func (f *fixture) plan() *reconcile.Plan {
	f.t.Helper()
	pl, err := f.session().ComputePlan(context.Background(), "plan", planapply.PlanOptions{})
	if err != nil {
		f.t.Fatalf("plan: %v", err)
	}
	return pl.Plan
}

func (f *fixture) apply() {
	f.t.Helper()
	if err := f.session().PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true}); err != nil {
		f.t.Fatalf("apply: %v\n%s", err, f.out.String())
	}
}

// applyAllowing applies with --allow-destroy n.
func (f *fixture) applyAllowing(n int) {
	f.t.Helper()
	o := planapply.ApplyOptions{AutoApprove: true, PlanOptions: planapply.PlanOptions{AllowDestroy: n}}
	if err := f.session().PlanAndApply(context.Background(), o); err != nil {
		f.t.Fatalf("apply --allow-destroy %d: %v\n%s", n, err, f.out.String())
	}
}

func actions(p *reconcile.Plan) map[string]reconcile.Action {
	m := map[string]reconcile.Action{}
	for _, c := range p.Changes {
		m[c.Address] = c.Action
	}
	return m
}

func TestApplyFromScratchThenNoChanges(t *testing.T) {
	f := newFixture(t, "kme2e1", []string{"sb-e2e1a", "sb-e2e1b"})
	p := f.plan()
	add, change, destroy := p.Counts()
	// 5 config params + 2 roles + log group + function + schedule group +
	// the App key and its alias = 12; per sandbox: key, alias, 2 tokens
	// (my-user, my-org), schedule = 5.
	if add != 12+2*5 || change != 0 || destroy != 0 {
		var b strings.Builder
		_ = views.RenderText(&b, p, views.TextOptions{})
		t.Fatalf("first plan: %d/%d/%d, want 22/0/0\n%s", add, change, destroy, b.String())
	}
	f.apply()

	// What landed in AWS.
	ctx := context.Background()
	n := names.New(f.prefix)
	tok, err := f.aws.GetParameter(ctx, "/sandbox/"+f.id("sb-e2e1a")+"/github-token", true)
	if err != nil {
		t.Fatal(err)
	}
	issued, ok := f.sim.LookupToken(tok.Value)
	if !ok {
		t.Fatalf("the token in SSM was not issued by the GitHub simulator")
	}
	if issued.Account != "my-user" || strings.Join(issued.Repositories, ",") != "my-repo" || issued.Permissions["contents"] != "write" {
		t.Fatalf("first owner token scope: %+v", issued)
	}
	org, err := f.aws.GetParameter(ctx, "/sandbox/"+f.id("sb-e2e1a")+"/github-token-my-org", true)
	if err != nil {
		t.Fatal(err)
	}
	if is, ok := f.sim.LookupToken(org.Value); !ok || is.Account != "my-org" || is.Repositories != nil {
		t.Fatalf("org token scope: %+v (found %v)", is, ok)
	}
	if _, err := f.aws.DescribeKey(ctx, n.KeyAlias(f.id("sb-e2e1b"))); err != nil {
		t.Fatalf("sandbox key alias: %v", err)
	}
	if s, err := f.aws.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.id("sb-e2e1b"))); err != nil || s.Expression != "rate(45 minutes)" || s.State != "ENABLED" {
		t.Fatalf("schedule: %+v %v", s, err)
	}
	if fn, err := f.aws.GetFunction(ctx, n.Function()); err != nil || fn.CodeSHA256 != reconcile.ZipSHA256([]byte("zip-v1")) || fn.Architecture != "arm64" || fn.MemoryMB != 128 {
		t.Fatalf("function: %+v %v", fn, err)
	}

	// A second plan finds nothing to do, and a no-op apply writes nothing and
	// asks GitHub nothing.
	before := len(f.sim.Requests())
	f.rec.Reset()
	if p := f.plan(); p.HasChanges() {
		t.Fatalf("second plan has changes: %v", actions(p))
	}
	f.apply()
	// The only writes are the state lock's: put and delete, for plan and apply.
	if w := f.rec.CountWrites(); w != 4 {
		var ops []string
		for _, c := range f.rec.Calls() {
			ops = append(ops, c.Operation)
		}
		t.Fatalf("no-op plan+apply made %d writes, want 4 (lock only): %v", w, ops)
	}
	t.Logf("apply output:\n%s", f.out.String())
	if after := len(f.sim.Requests()); after != before {
		t.Fatalf("no-op apply made %d GitHub requests", after-before)
	}
	// Secrets never printed.
	pem, _ := os.ReadFile(f.written.KeyPath)
	assertNoSecret(t, f.out.String(), tok.Value, org.Value, string(pem))
}

func assertNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		probe := s
		if strings.HasPrefix(s, "-----BEGIN") {
			lines := strings.Split(s, "\n")
			probe = lines[len(lines)/2]
		}
		if strings.Contains(text, probe) {
			t.Fatalf("a secret leaked into output")
		}
	}
}
