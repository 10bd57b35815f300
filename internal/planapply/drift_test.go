package planapply_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// Deleting any single managed resource out of band: plan shows exactly its
// re-creation, apply repairs it, and the next plan is empty.
func TestOutOfBandDeletionIsRepaired(t *testing.T) {
	f := newFixture(t, "kmdrift", []string{"sb-drift1"})
	f.Apply()
	ctx := context.Background()
	n := names.New(f.Prefix)
	cases := []struct {
		addr   string
		delete func() error
	}{
		{`aws_ssm_parameter.installation["my-org"]`, func() error { return f.AWS.DeleteParameter(ctx, n.InstallationParam("my-org")) }},
		{`aws_ssm_parameter.app_client_id`, func() error { return f.AWS.DeleteParameter(ctx, n.AppClientIDParam()) }},
		{`aws_ssm_parameter.private_key`, func() error { return f.AWS.DeleteParameter(ctx, n.PrivateKeyParam()) }},
		{`sandbox["` + f.ID("sb-drift1") + `"].km_github_token["my-user"]`, func() error { return f.AWS.DeleteParameter(ctx, "/sandbox/"+f.ID("sb-drift1")+"/github-token") }},
		{`sandbox["` + f.ID("sb-drift1") + `"].aws_scheduler_schedule.refresh`, func() error { return f.AWS.DeleteSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.ID("sb-drift1"))) }},
		{`sandbox["` + f.ID("sb-drift1") + `"].aws_kms_alias.token`, func() error { return f.AWS.DeleteAlias(ctx, n.KeyAlias(f.ID("sb-drift1"))) }},
		{`aws_lambda_function.refresher`, func() error { return f.AWS.DeleteFunction(ctx, n.Function()) }},
		{`aws_cloudwatch_log_group.refresher`, func() error { return f.AWS.DeleteLogGroup(ctx, n.LogGroup()) }},
	}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			if err := tc.delete(); err != nil {
				t.Fatalf("out-of-band delete: %v", err)
			}
			p := f.Plan()
			got := fleettest.Actions(p)
			if len(got) != 1 || got[tc.addr] != reconcile.Create {
				t.Fatalf("plan after deleting %s: %v, want exactly its creation", tc.addr, got)
			}
			f.Apply()
			if p := f.Plan(); p.HasChanges() {
				t.Fatalf("plan after repair: %v", fleettest.Actions(p))
			}
		})
	}
}

// An out-of-band change (not a deletion) shows as an update with a reason.
func TestOutOfBandChangeIsUpdated(t *testing.T) {
	f := newFixture(t, "kmchg", []string{"sb-chg1"})
	f.Apply()
	ctx := context.Background()
	n := names.New(f.Prefix)
	if err := f.AWS.PutRetentionPolicy(ctx, n.LogGroup(), 7); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AWS.PutParameter(ctx, state.PutParameterInput{Name: n.InstallationParam("my-user"), Type: "String", Value: "999", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	p := f.Plan()
	got := fleettest.Actions(p)
	if got["aws_cloudwatch_log_group.refresher"] != reconcile.Update || got[`aws_ssm_parameter.installation["my-user"]`] != reconcile.Update || len(got) != 2 {
		t.Fatalf("plan: %v", got)
	}
	var b strings.Builder
	_ = views.RenderText(&b, p, views.TextOptions{})
	if !strings.Contains(b.String(), `~ retention_in_days = "7" -> "30"`) || !strings.Contains(b.String(), "Plan: 0 to add, 2 to change, 0 to destroy.") {
		t.Fatalf("text plan:\n%s", b.String())
	}
	f.Apply()
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after repair: %v", fleettest.Actions(p))
	}
}

// A profile edit re-mints with the new scope and updates the schedule payload;
// removing a sandbox tears it down (key scheduled for deletion).
func TestProfileEditAndSandboxRemoval(t *testing.T) {
	f := newFixture(t, "kmedit", []string{"sb-edit1", "sb-edit2"})
	f.Apply()
	ctx := context.Background()
	old, _ := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-edit1")+"/github-token", true)

	// Narrow the profile: clone only, another repo.
	prof := f.Written.ProfilesDir + "/my-profile.yaml"
	b, _ := os.ReadFile(prof)
	nb := strings.Replace(string(b), "allowedRepos: [my-user/my-repo, my-org/*]", "allowedRepos: [my-user/other-repo, my-org/*]", 1)
	nb = strings.Replace(nb, "permissions: [clone, fetch, push]", "permissions: [clone, fetch]", 1)
	if nb == string(b) {
		t.Fatal("profile edit did not apply")
	}
	if err := os.WriteFile(prof, []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	p := f.Plan()
	got := fleettest.Actions(p)
	for _, id := range []string{f.ID("sb-edit1"), f.ID("sb-edit2")} {
		for _, a := range []string{`sandbox["` + id + `"].km_github_token["my-user"]`, `sandbox["` + id + `"].km_github_token["my-org"]`, `sandbox["` + id + `"].aws_scheduler_schedule.refresh`} {
			if got[a] != reconcile.Update {
				t.Fatalf("%s: %v (plan %v)", a, got[a], got)
			}
		}
	}
	for _, c := range p.Changes {
		if c.Type == "km_github_token" && !strings.HasPrefix(c.Reason, "scope changed") {
			t.Fatalf("%s reason %q", c.Address, c.Reason)
		}
	}
	f.Apply()
	tok, _ := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-edit1")+"/github-token", true)
	if tok.Value == old.Value {
		t.Fatal("token not re-minted")
	}
	is, ok := f.Sim.LookupToken(tok.Value)
	if !ok || strings.Join(is.Repositories, ",") != "other-repo" || is.Permissions["contents"] != "read" {
		t.Fatalf("new scope: %+v", is)
	}
	n := names.New(f.Prefix)
	s, _ := f.AWS.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.ID("sb-edit1")))
	if !strings.Contains(s.Input, `"other-repo"`) || !strings.Contains(s.Input, `"contents": "read"`) {
		t.Fatalf("schedule payload not updated: %s", s.Input)
	}

	// Remove sb-edit2 from km.yaml.
	cb, _ := os.ReadFile(f.Written.ConfigPath)
	cfgText := string(cb)
	i := strings.Index(cfgText, "  - id: "+f.ID("sb-edit2"))
	if err := os.WriteFile(f.Written.ConfigPath, []byte(cfgText[:i]), 0o644); err != nil {
		t.Fatal(err)
	}
	keyBefore, _ := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-edit2")))
	p = f.Plan()
	got = fleettest.Actions(p)
	want := map[string]reconcile.Action{
		`sandbox["` + f.ID("sb-edit2") + `"].aws_scheduler_schedule.refresh`: reconcile.Delete,
		`sandbox["` + f.ID("sb-edit2") + `"].km_github_token["my-user"]`:     reconcile.Delete,
		`sandbox["` + f.ID("sb-edit2") + `"].km_github_token["my-org"]`:      reconcile.Delete,
		`sandbox["` + f.ID("sb-edit2") + `"].aws_kms_alias.token`:            reconcile.Delete,
		`sandbox["` + f.ID("sb-edit2") + `"].aws_kms_key.token`:              reconcile.Delete,
	}
	if len(got) != len(want) {
		t.Fatalf("teardown plan: %v", got)
	}
	for a, w := range want {
		if got[a] != w {
			t.Fatalf("teardown %s: %v", a, got[a])
		}
	}
	f.ApplyAllowing(1) // 1 of 2 sandboxes: past safety.maxDestroyPercent
	if _, err := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-edit2")+"/github-token", false); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("token parameter still there: %v", err)
	}
	if _, err := f.AWS.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.ID("sb-edit2"))); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("schedule still there: %v", err)
	}
	k, err := f.AWS.DescribeKey(ctx, keyBefore.KeyID)
	if err != nil || k.State != "PendingDeletion" {
		t.Fatalf("key state %q %v", k.State, err)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after teardown: %v", fleettest.Actions(p))
	}
}

// A held lock makes apply fail and shows the holder.
func TestHeldLockBlocksApply(t *testing.T) {
	f := newFixture(t, "kmlock", nil)
	s := f.Session()
	release, err := s.Lock(context.Background(), "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	err = f.Session().PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true})
	if err == nil || !strings.Contains(err.Error(), "force-unlock") || !strings.Contains(err.Error(), "apply") {
		t.Fatalf("apply under a held lock: %v", err)
	}
}

// Drift in the refresher function's configuration or code shows in the plan
// as an update naming the attribute, and apply repairs it.
func TestFunctionDriftIsRepaired(t *testing.T) {
	f := newFixture(t, "kmfn", []string{"sb-fn1"})
	f.Apply()
	ctx := context.Background()
	n := names.New(f.Prefix)
	zip, err := os.ReadFile(f.Zip)
	if err != nil {
		t.Fatal(err)
	}
	reconfigure := func(edit func(*state.Function)) func() error {
		return func() error {
			live, err := f.AWS.GetFunction(ctx, n.Function())
			if err != nil {
				return err
			}
			edit(&live)
			_, err = f.AWS.UpdateFunctionConfiguration(ctx, live, "")
			return err
		}
	}
	cases := []struct {
		name   string
		change func() error
		want   string // in the text plan
	}{
		{"memory", reconfigure(func(fn *state.Function) { fn.MemoryMB = 512 }), `~ memory_size`},
		{"timeout", reconfigure(func(fn *state.Function) { fn.TimeoutSeconds = 3 }), `~ timeout`},
		{"environment", reconfigure(func(fn *state.Function) { fn.Env["KM_GITHUB_API_URL"] = "https://evil.example" }), `KM_GITHUB_API_URL`},
		{"code", func() error {
			_, err := f.AWS.UpdateFunctionCode(ctx, n.Function(), []byte("someone else's code"), "", "")
			return err
		}, `~ source_code_hash`},
		{"architecture", func() error {
			_, err := f.AWS.UpdateFunctionCode(ctx, n.Function(), zip, "x86_64", "")
			return err
		}, `~ architecture`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.change(); err != nil {
				t.Fatalf("out-of-band change: %v", err)
			}
			p := f.Plan()
			if got := fleettest.Actions(p); len(got) != 1 || got["aws_lambda_function.refresher"] != reconcile.Update {
				t.Fatalf("plan: %v, want exactly an update of the function", got)
			}
			var b strings.Builder
			_ = views.RenderText(&b, p, views.TextOptions{})
			if !strings.Contains(b.String(), tc.want) {
				t.Fatalf("text plan does not show %q:\n%s", tc.want, b.String())
			}
			f.Apply()
			if p := f.Plan(); p.HasChanges() {
				t.Fatalf("after repair: %v", fleettest.Actions(p))
			}
		})
	}
}

// recursionEndpoint answers Lambda's recursion-config actions, which kumo
// lacks, as AWS documents them (GET/PUT /2024-08-31/functions/NAME/recursion-config,
// default Terminate), and forwards every other request to kumo.
type recursionEndpoint struct {
	mu   sync.Mutex
	mode map[string]string
	puts []string
}

func (e *recursionEndpoint) Do(r *http.Request) (*http.Response, error) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/2024-08-31/functions/")
	name, isConfig := strings.CutSuffix(rest, "/recursion-config")
	if !ok || !isConfig {
		return http.DefaultClient.Do(r)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.Method == http.MethodPut {
		var in struct{ RecursiveLoop string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return nil, err
		}
		e.mode[name] = in.RecursiveLoop
		e.puts = append(e.puts, in.RecursiveLoop)
	}
	mode := e.mode[name]
	if mode == "" {
		mode = "Terminate"
	}
	body := `{"RecursiveLoop":"` + mode + `"}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

// The relay invokes the function from itself, so apply sets the function's
// recursive loop detection to Allow (AWS's default, Terminate, would stop a
// relay after 16 invocations); a reset to Terminate is drift, repaired.
func TestFunctionRecursionIsAllowed(t *testing.T) {
	f := newFixture(t, "kmrec", []string{"sb-rec1"})
	ep := &recursionEndpoint{mode: map[string]string{}}
	f.AWS, f.Rec = statetest.Client(t, f.KumoURL, state.Options{HTTPClient: ep})
	f.Apply()
	fn := names.New(f.Prefix).Function()
	if ep.mode[fn] != "Allow" || len(ep.puts) != 1 {
		t.Fatalf("after apply: mode %q, puts %v; want one PutFunctionRecursionConfig Allow", ep.mode[fn], ep.puts)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after apply: %v", fleettest.Actions(p))
	}
	ep.mu.Lock()
	ep.mode[fn] = "Terminate" // someone resets it in the console
	ep.mu.Unlock()
	p := f.Plan()
	if got := fleettest.Actions(p); len(got) != 1 || got["aws_lambda_function.refresher"] != reconcile.Update {
		t.Fatalf("plan after the reset: %v", got)
	}
	var b strings.Builder
	_ = views.RenderText(&b, p, views.TextOptions{})
	if !strings.Contains(b.String(), `~ recursive_loop`) || !strings.Contains(b.String(), `"Terminate" -> "Allow"`) {
		t.Fatalf("text plan:\n%s", b.String())
	}
	f.Apply()
	if ep.mode[fn] != "Allow" || len(ep.puts) != 2 {
		t.Fatalf("after repair: mode %q, puts %v", ep.mode[fn], ep.puts)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after repair: %v", fleettest.Actions(p))
	}
}
