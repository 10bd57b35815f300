// Package fleettest is the end-to-end fixture of the fleet commands' tests
// (internal/planapply, internal/sandboxes): the demo declaration wired to
// kumo and the GitHub simulator, under a prefix and sandbox ids tagged for
// one run, swept when the test ends, and the refresher run as Lambda would.
// Only tests import it (internal/layering checks it); it must not import
// cmd/*.
package fleettest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/internal/sandboxes"
	"github.com/klankermaker/km/lambda"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// Fixture is one declaration wired to kumo and githubsim.
type Fixture struct {
	T         *testing.T
	Sim       *githubsim.Server
	AWS       *state.AWS
	Rec       *state.Recorder
	Written   demo.Written
	Dir       string
	Zip       string
	Prefix    string
	Run       string // the tag New appended to prefix and sandbox ids
	KumoURL   string
	Out       bytes.Buffer
	Proxy     *refreshertest.Proxy // when set (planapply's withSSMHistory), every client and the refresher go through it
	refresher *refreshertest.Binary
}

// New writes the demo declaration for prefix and sandboxes, suffixed with a
// random run tag (kumo's store outlives a test: go test -count=2 must not
// meet the first run's resources); f.ID maps a sandbox id as written in the
// test to its tagged form. refresher is the test binary's cmd/km-refresher,
// built at most once, for StartRefresher.
func New(t *testing.T, refresher *refreshertest.Binary, prefix string, sandboxes []string) *Fixture {
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
	return &Fixture{T: t, Sim: sim, AWS: aws, Rec: rec, Written: w, Dir: dir, Zip: zip, Prefix: prefix, Run: run, KumoURL: kumoURL, refresher: refresher}
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

// ID is sandbox ID sb as tagged for this run.
func (f *Fixture) ID(sb string) string { return sb + "-" + f.Run }

// IDs is id for each of sbs, in a new slice.
func (f *Fixture) IDs(sbs []string) []string {
	out := make([]string, len(sbs))
	for i, sb := range sbs {
		out[i] = f.ID(sb)
	}
	return out
}

// Env is the fixture's environment: its km.yaml, the refresher zip, kumo,
// output to f.Out.
func (f *Fixture) Env() planapply.Env {
	return planapply.Env{
		ConfigPath: f.Written.ConfigPath,
		Getenv: func(k string) string {
			if k == "KM_REFRESHER_ZIP" {
				return f.Zip
			}
			return ""
		},
		Stdout: &f.Out, Stderr: &f.Out, AWS: f.AWS,
	}
}

// Session opens a Session on Env.
func (f *Fixture) Session() *planapply.Session {
	f.T.Helper()
	s, err := planapply.Open(context.Background(), f.Env())
	if err != nil {
		f.T.Fatalf("open: %v", err)
	}
	return s
}

// Plan computes the plan, failing the test on an error.
func (f *Fixture) Plan() *reconcile.Plan {
	f.T.Helper()
	pl, err := f.Session().ComputePlan(context.Background(), "plan", planapply.PlanOptions{})
	if err != nil {
		f.T.Fatalf("plan: %v", err)
	}
	return pl.Plan
}

// Apply plans and applies with --auto-approve, failing the test on an error.
func (f *Fixture) Apply() {
	f.T.Helper()
	if err := f.Session().PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true}); err != nil {
		f.T.Fatalf("apply: %v\n%s", err, f.Out.String())
	}
}

// ApplyAllowing applies with --allow-destroy n.
func (f *Fixture) ApplyAllowing(n int) {
	f.T.Helper()
	o := planapply.ApplyOptions{AutoApprove: true, PlanOptions: planapply.PlanOptions{AllowDestroy: n}}
	if err := f.Session().PlanAndApply(context.Background(), o); err != nil {
		f.T.Fatalf("apply --allow-destroy %d: %v\n%s", n, err, f.Out.String())
	}
}

// Actions maps each change's address to its action.
func Actions(p *reconcile.Plan) map[string]reconcile.Action {
	m := map[string]reconcile.Action{}
	for _, c := range p.Changes {
		m[c.Address] = c.Action
	}
	return m
}

// AssertNoSecret fails the test when any of the secrets (a PEM key: one of
// its body lines) appears in text.
func AssertNoSecret(t *testing.T, text string, secrets ...string) {
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

// StartRefresher runs the refresher as Lambda would for the fixture's
// function: kumo's Runtime API (through a proxy that sees its first poll),
// the environment km apply put on the function. It returns once the
// process polls for an invocation: from then on kumo routes Invoke to it.
func (f *Fixture) StartRefresher() *refreshertest.Output {
	f.T.Helper()
	fn := names.New(f.Prefix).Function()
	live, err := f.AWS.GetFunction(context.Background(), fn)
	if err != nil {
		f.T.Fatal(err)
	}
	proxy := f.Proxy
	if proxy == nil {
		proxy = refreshertest.NewProxy(f.T, f.KumoURL)
	}
	cmd := exec.Command(f.refresher.Path(f.T))
	cmd.Env = refreshertest.Env(proxy.RuntimeAPI(fn), fn, proxy.URL, f.T.TempDir(), live.Env)
	out := &refreshertest.Output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		f.T.Fatal(err)
	}
	f.T.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case <-proxy.Polled(fn):
	case <-time.After(30 * time.Second):
		f.T.Fatalf("the refresher never polled the Runtime API; its output:\n%s", out)
	}
	return out
}

// Refresh runs sandboxes.Refresh (km refresh ID). The refresher's first poll can reach kumo
// just after the proxy forwarded it: until kumo registered it, Invoke
// answers "no runtime handler" at once, and the call is repeated.
func (f *Fixture) Refresh(id string) (lambda.Result, error) {
	f.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := sandboxes.Refresh(context.Background(), f.Session(), id)
		if err != nil && strings.Contains(err.Error(), "no runtime handler") && time.Now().Before(deadline) {
			continue
		}
		return res, err
	}
}
