package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/lambda"
)

// recordingInvoker records the relay's asynchronous invocations.
type recordingInvoker struct {
	fn      []string
	queued  [][]byte
	failure error
}

func (r *recordingInvoker) InvokeAsync(_ context.Context, fn string, b []byte) error {
	if r.failure != nil {
		return r.failure
	}
	r.fn = append(r.fn, fn)
	r.queued = append(r.queued, append([]byte(nil), b...))
	return nil
}

// seedExpiring stores a previous token whose km metadata says it expires
// after left.
func (f *fixture) seedExpiring(param string, left time.Duration) stored {
	f.t.Helper()
	return f.seedToken(param, "ghs_previousTokenStandIn0000000000000", time.Now().Add(left))
}

func TestRelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	unavailable := []int{503, 503, 503}
	tests := []struct {
		name      string
		left      time.Duration // the stored token's remaining lifetime
		fail      []int         // statuses githubsim answers first
		relay     *sandboxtoken.Relay
		invokeErr error
		wantLink  int // 0: not handed on, the invocation fails
		wantErr   string
	}{
		{name: "due token, GitHub unavailable: handed on", left: 15 * time.Minute, fail: unavailable, wantLink: 1},
		{name: "due token, rate limited: handed on", left: 15 * time.Minute, fail: []int{429, 429, 429}, wantLink: 1},
		{name: "fresh token: fails at once", left: 59 * time.Minute, fail: unavailable, wantErr: "GitHub failed (server error)"},
		{name: "repository gone (422) is never relayed", left: 15 * time.Minute, fail: []int{422}, wantErr: "a repository left the installation"},
		{name: "a relay link hands on to the next", left: 55 * time.Minute, fail: unavailable,
			relay: &sandboxtoken.Relay{Link: 3, Until: time.Now().Add(10 * time.Minute)}, wantLink: 4},
		{name: "the relay ends at Until", left: 5 * time.Minute, fail: unavailable,
			relay: &sandboxtoken.Relay{Link: 9, Until: time.Now().Add(-time.Second)}, wantErr: "GitHub failed (server error)"},
		{name: "the relay ends after MaxRelayLinks links", left: 5 * time.Minute, fail: unavailable,
			relay: &sandboxtoken.Relay{Link: lambda.MaxRelayLinks, Until: time.Now().Add(10 * time.Minute)}, wantErr: "GitHub failed (server error)"},
		{name: "hand-on refused by Lambda", left: 15 * time.Minute, fail: unavailable,
			invokeErr: errors.New("AccessDeniedException"), wantErr: "handing the refresh on to"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			owner := "relay-" + string(rune('a'+i))
			inst := f.sim.AddInstallation(owner, "Organization", []string{"repo-a"}, nil)
			sb := f.newSandbox(sandboxtoken.Owner{Owner: owner, InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
			o := ownerOf(sb)
			before := f.seedExpiring(o.Parameter, tc.left)
			sb.payload.Relay = tc.relay
			// Each try answers with the injected status: retries exhaust
			// the budget (sleeps are recorded, not waited).
			statuses := tc.fail
			if tc.fail[0] != 422 {
				statuses = nil
				for range lambda.GitHubRetries + 1 {
					statuses = append(statuses, tc.fail[0])
				}
			}
			f.sim.FailNextWithRetryAfter("POST", "/app/installations/", 0, statuses...)
			var logs lineBuffer
			inv := &recordingInvoker{failure: tc.invokeErr}
			h := f.handler(&logs, &sleepRecorder{})
			h.Invoker = inv
			res, err := h.Handle(context.Background(), sb.input())
			if f.sim.PendingFailures() != 0 {
				t.Fatalf("%d injected failures left", f.sim.PendingFailures())
			}
			if after := f.read(o.Parameter); after.Value != before.Value || after.Version != before.Version {
				t.Error("the previous token was touched")
			}
			evs := logs.events(t)
			if len(evs) != 1 || evs[0]["msg"] != "token_refresh_failed" {
				t.Fatalf("log events %v", evs)
			}
			if tc.wantLink == 0 {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if res.HandedOn != nil || len(inv.queued) != 0 {
					t.Errorf("handed on %+v, queued %d", res.HandedOn, len(inv.queued))
				}
				if _, ok := evs[0]["retry_until"]; ok {
					t.Errorf("failure event claims a retry: %v", evs[0])
				}
				return
			}
			if err != nil {
				t.Fatalf("a handed-on invocation returned %v", err)
			}
			if len(inv.queued) != 1 || inv.fn[0] != names.New(f.prefix).Function() {
				t.Fatalf("queued %d invocations of %v", len(inv.queued), inv.fn)
			}
			next, err := sandboxtoken.DecodePayload(inv.queued[0])
			if err != nil {
				t.Fatal(err)
			}
			if next.Relay == nil || next.Relay.Link != tc.wantLink || res.HandedOn == nil || *res.HandedOn != *next.Relay {
				t.Fatalf("next link %+v, result %+v", next.Relay, res.HandedOn)
			}
			if tc.relay != nil && !next.Relay.Until.Equal(tc.relay.Until.UTC()) {
				t.Errorf("the relay's end moved from %s to %s", tc.relay.Until, next.Relay.Until)
			}
			if tc.relay == nil {
				if d := time.Until(next.Relay.Until); d < lambda.RelayWindow-time.Minute || d > lambda.RelayWindow {
					t.Errorf("relay ends in %s, want about %s", d, lambda.RelayWindow)
				}
			}
			if evs[0]["retry_until"] != next.Relay.Until.Format(time.RFC3339) {
				t.Errorf("failure event %v does not say until when the relay retries", evs[0])
			}
			f.assertNoSecrets("relay payload", string(inv.queued[0]))
		})
	}
}

// A multi-owner sandbox hands on only the owner whose refresh failed, with
// its own parameter name (which depends on its place in the full payload).
func TestRelayHandsOnOnlyTheFailedOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.sim.AddInstallation("org-ok", "Organization", []string{"repo-a"}, nil)
	b := f.sim.AddInstallation("org-down", "Organization", []string{"repo-b"}, nil)
	sb := f.newSandbox(
		sandboxtoken.Owner{Owner: "org-ok", InstallationID: a, Repositories: []string{"repo-a"}, Permissions: contentsWrite},
		sandboxtoken.Owner{Owner: "org-down", InstallationID: b, Repositories: []string{"repo-b"}, Permissions: contentsWrite},
	)
	for _, o := range sb.payload.Owners {
		f.seedExpiring(o.Parameter, 14*time.Minute)
	}
	var statuses []int
	for range lambda.GitHubRetries + 1 {
		statuses = append(statuses, 502)
	}
	f.sim.FailNextWithRetryAfter("POST", "/app/installations/"+strconv.FormatInt(b, 10)+"/", 0, statuses...)
	inv := &recordingInvoker{}
	var logs lineBuffer
	h := f.handler(&logs, &sleepRecorder{})
	h.Invoker = inv
	res, err := h.Handle(context.Background(), sb.input())
	if err != nil || len(res.Tokens) != 1 || res.Tokens[0].Owner != "org-ok" {
		t.Fatalf("result %+v, error %v", res, err)
	}
	if len(inv.queued) != 1 {
		t.Fatalf("%d hand-ons", len(inv.queued))
	}
	var next sandboxtoken.Payload
	if err := json.Unmarshal(inv.queued[0], &next); err != nil {
		t.Fatal(err)
	}
	if len(next.Owners) != 1 || next.Owners[0].Owner != "org-down" || next.Owners[0].Parameter != sb.payload.Owners[1].Parameter {
		t.Fatalf("handed-on owners %+v", next.Owners)
	}

	// The next link, with GitHub back, refreshes that owner and nothing else.
	before := f.read(sb.payload.Owners[1].Parameter)
	inv.queued = nil
	res, err = h.Handle(context.Background(), rawPayload(t, next))
	if err != nil || len(res.Tokens) != 1 || res.Tokens[0].Parameter != sb.payload.Owners[1].Parameter || res.HandedOn != nil {
		t.Fatalf("next link: result %+v, error %v", res, err)
	}
	f.assertFresh(sb, sb.payload.Owners[1], before)
	evs := logs.events(t)
	if last := evs[len(evs)-1]; last["msg"] != "token_refreshed" || last["relay_link"] != float64(1) {
		t.Errorf("the next link's event %v", last)
	}
	// Every SSM call the handler made is one the refresher's role grants
	// (reconcile's TestRefresherPolicyIsLeastPrivilege pins the policy).
	granted := map[string]bool{"GetParameters": true, "GetParameter": true, "PutParameter": true, "AddTagsToResource": true, "DescribeParameters": true}
	for _, c := range f.rec.Calls() {
		if c.Service != "SSM" || !granted[c.Operation] {
			t.Errorf("the handler called %s %s, which the refresher's role does not grant", c.Service, c.Operation)
		}
	}
}

func rawPayload(t *testing.T, p sandboxtoken.Payload) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
