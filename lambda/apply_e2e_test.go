package lambda_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/lambdazip"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/reconcile"
)

// TestRefresherDeployedByKmApply deploys everything with the real km apply
// (function, roles, keys, tokens, schedules), then runs the refresher with
// the environment apply put on the function and fires the schedule apply
// created. The refreshed tokens carry the same scope and metadata apply
// wrote, so the next km plan has nothing to do.
func TestRefresherDeployedByKmApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	aws, rec, kumoURL := kumoClient(t)
	sim := githubsim.New()
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	prefix, id := "t"+uniq(t), "sb-"+uniq(t)
	w, err := demo.Write(sim, dir, demo.Options{Prefix: prefix, Sandboxes: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	zip, err := lambdazip.Zip([]byte("bootstrap stand-in"))
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, lambdazip.FileName)
	if err := os.WriteFile(zipPath, zip, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := planapply.Env{
		ConfigPath: w.ConfigPath, AWS: aws, Stdout: &out, Stderr: &out,
		Getenv: func(k string) string {
			if k == lambdazip.EnvVar {
				return zipPath
			}
			return ""
		},
	}
	open := func() *planapply.Session {
		t.Helper()
		s, err := planapply.Open(ctx, env)
		if err != nil {
			t.Fatalf("km: %v\n%s", err, out.String())
		}
		return s
	}
	if err := open().PlanAndApply(ctx, planapply.ApplyOptions{AutoApprove: true}); err != nil {
		t.Fatalf("km apply: %v\n%s", err, out.String())
	}

	pemBytes, err := os.ReadFile(w.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, aws: aws, rec: rec, kumoURL: kumoURL, sim: sim, prefix: prefix, clientID: w.ClientID, pem: pemBytes}
	n := names.New(prefix)
	fn, err := aws.GetFunction(ctx, n.Function())
	if err != nil {
		t.Fatal(err)
	}
	sched, err := aws.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(id))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := sandboxtoken.DecodePayload([]byte(sched.Input))
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Owners) != 2 {
		t.Fatalf("the schedule input has %d owners, want 2 (the demo profile spans two accounts)", len(pl.Owners))
	}
	applied := map[string]stored{}
	for _, o := range pl.Owners {
		applied[o.Parameter] = f.read(o.Parameter)
	}

	d := &deployment{aws: aws, proxy: refreshertest.NewProxy(t, kumoURL), fn: fn, prefix: prefix}
	p := d.start(t)
	resp, fnErr := d.fire(t, p, sched)
	if fnErr != "" {
		t.Fatalf("the scheduled invocation failed: %s\n%s", resp, p.out.String())
	}
	sb := sandbox{id: id, payload: pl}
	for _, o := range pl.Owners {
		ev := p.event(t, id)
		if ev["msg"] != "token_refreshed" {
			t.Errorf("log event %v", ev)
		}
		before := applied[o.Parameter]
		got := f.assertFresh(sb, o, before)
		a, r := before.Meta, got.Meta
		if a.Scope != r.Scope || a.Repositories != r.Repositories || a.Permissions != r.Permissions ||
			a.Owner != r.Owner || a.InstallationID != r.InstallationID || a.Prefix != r.Prefix {
			t.Errorf("%s: the refresher's metadata differs from km apply's:\napply     %+v\nrefresher %+v", o.Parameter, a, r)
		}
		if a.MintedBy != "apply" || r.MintedBy != "refresher" {
			t.Errorf("minted_by %q then %q", a.MintedBy, r.MintedBy)
		}
	}

	pln, err := open().ComputePlan(ctx, "plan", planapply.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pln.Plan.Changes {
		if c.Action != reconcile.NoOp {
			t.Errorf("km plan after a refresh: %s %s (%s)", c.Action, c.Address, c.Reason)
		}
	}
	f.assertNoSecrets("refresher output", p.out.String())
}
