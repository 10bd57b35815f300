package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/lambda"
	"github.com/klankermaker/km/state"
)

// TestRefresherThroughTheRuntimeAPI runs the real bootstrap binary against
// kumo's Lambda Runtime API and fires schedules the way EventBridge Scheduler
// does. One process serves every subtest, as one warm execution environment
// serves many sandboxes.
func TestRefresherThroughTheRuntimeAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := deploy(t, f, refreshertest.NewProxy(t, f.kumoURL), names.New(f.prefix).Function())
	p := d.start(t)

	// invoke fires the sandbox's schedule and returns the function error
	// message ("" on success) and the log event.
	invoke := func(t *testing.T, sb sandbox, input json.RawMessage) (string, map[string]any) {
		t.Helper()
		s := d.schedule(t, sb, input)
		out, fnErr := d.fire(t, p, s)
		ev := p.event(t, sb.id)
		f.assertNoSecrets("function response", string(out))
		if fnErr == "" {
			return "", ev
		}
		var e struct {
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(out, &e); err != nil || e.ErrorMessage == "" {
			t.Fatalf("function error %s with payload %s", fnErr, out)
		}
		return e.ErrorMessage, ev
	}

	t.Run("seed payload refreshes the token", func(t *testing.T) {
		inst := f.sim.AddInstallation("org-seed", "Organization", []string{"repo-a", "repo-b"}, nil)
		sb := f.newSandbox(sandboxtoken.Owner{Owner: "org-seed", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
		before := f.seedOld(ownerOf(sb).Parameter)
		msg, ev := invoke(t, sb, sb.seedInput())
		if msg != "" {
			t.Fatalf("invocation failed: %s", msg)
		}
		got := f.assertFresh(sb, ownerOf(sb), before)
		if rid, _ := ev["request_id"].(string); ev["msg"] != "token_refreshed" || ev["token_sha"] != sha12(got.Value) || rid == "" {
			t.Errorf("log event %v", ev)
		}
	})

	t.Run("multi-owner payload", func(t *testing.T) {
		a := f.sim.AddInstallation("org-multi", "Organization", []string{"repo-a"}, nil)
		b := f.sim.AddInstallation("user-multi", "User", nil, nil)
		sb := f.newSandbox(
			sandboxtoken.Owner{Owner: "org-multi", InstallationID: a, Repositories: []string{"repo-a"}, Permissions: contentsWrite},
			sandboxtoken.Owner{Owner: "user-multi", InstallationID: b, Permissions: contentsWrite},
		)
		var befores []stored
		for _, o := range sb.payload.Owners {
			befores = append(befores, f.seedOld(o.Parameter))
		}
		if msg, _ := invoke(t, sb, sb.input()); msg != "" {
			t.Fatalf("invocation failed: %s", msg)
		}
		if ev := p.event(t, sb.id); ev["owner"] != "user-multi" || ev["msg"] != "token_refreshed" {
			t.Errorf("second log event %v", ev)
		}
		for i, o := range sb.payload.Owners {
			f.assertFresh(sb, o, befores[i])
		}
	})

	t.Run("502 then 503 then 201", func(t *testing.T) {
		inst := f.sim.AddInstallation("org-flaky", "Organization", []string{"repo-a"}, nil)
		sb := f.newSandbox(sandboxtoken.Owner{Owner: "org-flaky", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
		before := f.seedOld(ownerOf(sb).Parameter)
		f.sim.FailNext("POST", "/app/installations/", 502, 503)
		if msg, _ := invoke(t, sb, sb.input()); msg != "" {
			t.Fatalf("invocation failed: %s", msg)
		}
		f.assertFresh(sb, ownerOf(sb), before)
		if f.sim.PendingFailures() != 0 {
			t.Error("the injected failures were not all consumed")
		}
	})

	// GitHub still unavailable when the first invocation's retries run out:
	// the invocation hands on through a real asynchronous Invoke, which
	// kumo delivers to the same runtime, and the next link refreshes.
	t.Run("outage outlasting an invocation is relayed", func(t *testing.T) {
		inst := f.sim.AddInstallation("org-relay", "Organization", []string{"repo-a"}, nil)
		sb := f.newSandbox(sandboxtoken.Owner{Owner: "org-relay", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
		before := f.seedExpiring(ownerOf(sb).Parameter, 14*time.Minute)
		var statuses []int
		for range lambda.GitHubRetries + 1 {
			statuses = append(statuses, 429)
		}
		f.sim.FailNextWithRetryAfter("POST", "/app/installations/", 0, statuses...)
		s := d.schedule(t, sb, sb.input())
		out, fnErr := d.fire(t, p, s)
		if fnErr != "" {
			t.Fatalf("the first link failed: %s", out)
		}
		var res lambda.Result
		if err := json.Unmarshal(out, &res); err != nil || res.HandedOn == nil || res.HandedOn.Link != 1 {
			t.Fatalf("response %s does not hand on", out)
		}
		first := p.event(t, sb.id)
		if first["msg"] != "token_refresh_failed" || first["retry_until"] == nil {
			t.Errorf("first link's event %v", first)
		}
		second := p.event(t, sb.id)
		if second["msg"] != "token_refreshed" || second["relay_link"] != float64(1) {
			t.Fatalf("second link's event %v", second)
		}
		f.assertFresh(sb, ownerOf(sb), before)
		if f.sim.PendingFailures() != 0 {
			t.Error("the injected failures were not all consumed")
		}
	})

	t.Run("repository removed from the installation", func(t *testing.T) {
		inst := f.sim.AddInstallation("org-shrunk", "Organization", []string{"repo-a", "repo-b"}, nil)
		sb := f.newSandbox(sandboxtoken.Owner{Owner: "org-shrunk", InstallationID: inst, Repositories: []string{"repo-a", "repo-b"}, Permissions: contentsWrite})
		before := f.seedOld(ownerOf(sb).Parameter)
		f.sim.RemoveRepoFromInstallation(inst, "repo-b")
		msg, ev := invoke(t, sb, sb.input())
		for _, s := range []string{sb.id, "org-shrunk", "a repository left the installation", "previous token"} {
			if !strings.Contains(msg, s) {
				t.Errorf("function error does not mention %q: %q", s, msg)
			}
		}
		if after := f.read(ownerOf(sb).Parameter); after.Value != before.Value || after.Version != before.Version {
			t.Error("the previous token was touched")
		}
		if e, _ := ev["error"].(string); ev["msg"] != "token_refresh_failed" || !strings.Contains(e, "a repository left the installation") {
			t.Errorf("log event %v does not say why", ev)
		}
	})

	t.Run("rotated App key", func(t *testing.T) {
		inst := f.sim.AddInstallation("org-rotate", "Organization", []string{"repo-a"}, nil)
		sb := f.newSandbox(sandboxtoken.Owner{Owner: "org-rotate", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
		f.seedOld(ownerOf(sb).Parameter)
		if msg, _ := invoke(t, sb, sb.input()); msg != "" { // warms the key cache with the old key
			t.Fatalf("invocation failed: %s", msg)
		}
		newPEM, err := f.sim.AddAppKey()
		if err != nil {
			t.Fatal(err)
		}
		f.putKey(newPEM)
		if err := f.sim.RemoveAppKey(f.pem); err != nil {
			t.Fatal(err)
		}
		before := f.read(ownerOf(sb).Parameter)
		msg, ev := invoke(t, sb, sb.input()) // the same schedule fires again
		if msg != "" || ev["msg"] != "token_refreshed" {
			t.Fatalf("the invocation after the rotation did not sign with the new key: %s %v", msg, ev)
		}
		f.assertFresh(sb, ownerOf(sb), before)
		f.assertNoSecrets("refresher output", p.out.String(), newPEM)
	})

	// On AWS, Lambda ships stdout to the function's log group; km otel
	// --events finds one sandbox's events with a term filter pattern.
	t.Run("events found by sandbox id in CloudWatch Logs", func(t *testing.T) {
		ctx := context.Background()
		group := names.New(f.prefix).LogGroup()
		if err := f.aws.CreateLogGroup(ctx, group, nil); err != nil {
			t.Fatal(err)
		}
		// Everything the process printed, as Lambda ships stdout and stderr.
		var msgs []state.LogEvent
		events := parseEvents(t, p.out.String())
		for _, ev := range events {
			b, _ := json.Marshal(ev)
			msgs = append(msgs, state.LogEvent{Message: string(b)})
		}
		if err := f.aws.PutLogEvents(ctx, group, "2025/01/01/[$LATEST]refresher", msgs); err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, ev := range events {
			if id, ok := ev["sandbox_id"].(string); ok {
				ids[id] = true
			}
		}
		if len(ids) < 5 {
			t.Fatalf("events of %d sandboxes, want at least 5", len(ids))
		}
		for id := range ids {
			got, err := f.aws.FilterLogEvents(ctx, group, `"`+id+`"`, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, e := range got {
				m := parseEvents(t, e.Message)[0]
				switch {
				case m["sandbox_id"] == id:
					found++
				case m["sandbox_id"] != nil:
					t.Errorf("filter %q matched an event of sandbox %v", id, m["sandbox_id"])
				case !strings.Contains(fmt.Sprint(m["errorMessage"]), id):
					t.Errorf("filter %q matched %s", id, e.Message)
				}
			}
			want := 0
			for _, ev := range events {
				if ev["sandbox_id"] == id {
					want++
				}
			}
			if found != want {
				t.Errorf("filter %q found %d of the sandbox's %d token events", id, found, want)
			}
		}
	})

	f.assertNoSecrets("refresher output", p.out.String())
}
