package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/lambda"
)

// fakeClock is the simulated time shared by githubsim, the handler and the
// GitHub client (JWTs, token expiry, retry waits).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// outages makes GitHub unavailable (503) during the given windows of
// simulated time. githubsim's injected failures are counted, not timed, so
// a time window needs this transport in front of it.
type outages struct {
	clock   *fakeClock
	windows [][2]time.Time
	next    http.RoundTripper
}

func (o *outages) down(t time.Time) bool {
	for _, w := range o.windows {
		if !t.Before(w[0]) && t.Before(w[1]) {
			return true
		}
	}
	return false
}

func (o *outages) RoundTrip(r *http.Request) (*http.Response, error) {
	if !o.down(o.clock.Now()) {
		return o.next.RoundTrip(r)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	body := `{"message":"Service Unavailable","documentation_url":"https://docs.github.com/rest"}`
	return &http.Response{
		StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:   io.NopCloser(bytes.NewBufferString(body)), ContentLength: int64(len(body)), Request: r,
	}, nil
}

// The model of AWS the simulation follows (documented behaviour):
//   - EventBridge Scheduler fires every rate and invokes the function
//     asynchronously; its retry policy covers failed deliveries only, and a
//     delivery to Lambda's queue does not fail here.
//   - Lambda runs each invocation with a 60-second deadline. When the
//     function returns an error, Lambda retries the event twice: one minute
//     after the first attempt ends, then two minutes after the second.
//   - An asynchronous Invoke from the relay starts relayLatency after the
//     invoking link ends (Lambda does not publish its queueing delay; a few
//     hundred milliseconds is typical, 10 s is a pessimistic bound).
const (
	lambdaTimeout = 60 * time.Second
	relayLatency  = 10 * time.Second
)

var lambdaRetryWaits = []time.Duration{time.Minute, 2 * time.Minute}

// model is a schedule and whether the relay is wired.
type model struct {
	rate  time.Duration
	relay bool
}

var contractModel = model{rate: 45 * time.Minute, relay: true}

// continuity is what a simulation observed.
type continuity struct {
	minRemaining time.Duration // least lifetime the stored token had left when replaced
	longestGap   time.Duration // longest time without a valid stored token
	invocations  int
	failed       int // invocations that stored no token (including those that handed on)
	relayed      int // invocations that handed on
	longestRelay int // most links in one relay
}

// pending is an invocation waiting in the simulated Lambda queue.
type pending struct {
	at      time.Time
	input   []byte
	retries int // Lambda's asynchronous retries already used
}

// simulate runs the schedule for span with GitHub down for outage in every
// second cycle, the outage's start moving through the cycle a minute at a
// time (so every phase, including "starts exactly at a fire", is hit). It
// drives the production handler in-process on the fake clock, against kumo
// for SSM and githubsim for GitHub.
func simulate(t *testing.T, m model, outage time.Duration, span time.Duration) continuity {
	t.Helper()
	start := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	f := newFixture(t, githubsim.WithClock(clock.Now), githubsim.WithTokenTTL(time.Hour))
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
	sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
	param := sb.payload.Owners[0].Parameter

	down := &outages{clock: clock, next: http.DefaultTransport}
	if outage > 0 {
		phase := -outage // the first outage ends exactly at a fire
		for slot := start.Add(m.rate); slot.Before(start.Add(span)); slot = slot.Add(2 * m.rate) {
			down.windows = append(down.windows, [2]time.Time{slot.Add(phase), slot.Add(phase + outage)})
			if phase += time.Minute; phase >= m.rate {
				phase = -outage
			}
		}
	}
	var deadline time.Time // end of the current invocation's 60 s
	o := lambda.GitHubOptions(f.sim.URL, clock.Now)
	o.HTTPClient = &http.Client{Transport: down}
	o.Sleep = func(ctx context.Context, d time.Duration) error {
		if clock.Now().Add(d).After(deadline.Add(-lambda.WriteReserve)) {
			return context.DeadlineExceeded
		}
		clock.Set(clock.Now().Add(d))
		return nil
	}
	inv := &recordingInvoker{} // the simulation queues what the relay invokes
	h := &lambda.Handler{SSM: f.aws, Prefix: f.prefix, APIURL: f.sim.URL, Now: clock.Now,
		NewGitHub: lambda.AppMinter(o), Logger: (&lineBuffer{}).logger()}
	if m.relay {
		h.Invoker = inv
	}

	var res continuity
	var curValue string
	var curExpiry time.Time
	// invoke runs one invocation starting at at; it reports the handler's
	// error and when the invocation ended.
	invoke := func(at time.Time, input []byte) (error, time.Time) {
		clock.Set(at)
		deadline = clock.Now().Add(lambdaTimeout)
		res.invocations++
		out, err := h.Handle(context.Background(), input)
		ended := clock.Now()
		got := f.read(param).Value
		if err != nil || out.HandedOn != nil {
			res.failed++ // a link that handed on failed too: the relay owns the failure
		}
		if got == curValue {
			return err, ended
		}
		if err != nil {
			t.Fatalf("a failed invocation at %s changed the stored token", at)
		}
		issued, ok := f.sim.LookupToken(got)
		if !ok {
			t.Fatalf("the invocation at %s stored a token githubsim never issued", at)
		}
		if curValue != "" {
			left := curExpiry.Sub(ended)
			res.minRemaining = min(res.minRemaining, left)
			res.longestGap = max(res.longestGap, -left)
		}
		curValue, curExpiry = got, issued.ExpiresAt
		return nil, ended
	}

	res.minRemaining = time.Hour
	f.seedToken(param, "ghs_applyWroteThisParameterStandIn000000", start) // km apply wrote the parameter
	if err, _ := invoke(start, sb.input()); err != nil {                  // the first real token
		t.Fatalf("the first token could not be minted: %v", err)
	}
	end := start.Add(span)
	var queue []pending
	for fire := start.Add(m.rate); !fire.After(end); fire = fire.Add(m.rate) {
		queue = append(queue, pending{at: fire, input: sb.input()})
	}
	for len(queue) > 0 {
		sort.SliceStable(queue, func(i, j int) bool { return queue[i].at.Before(queue[j].at) })
		ev := queue[0]
		queue = queue[1:]
		if ev.at.After(end) {
			break
		}
		inv.queued = nil
		err, ended := invoke(ev.at, ev.input)
		for _, b := range inv.queued {
			res.relayed++
			var p sandboxtoken.Payload
			if json.Unmarshal(b, &p) != nil || p.Relay == nil {
				t.Fatalf("the relay queued a payload without its relay field: %s", b)
			}
			res.longestRelay = max(res.longestRelay, p.Relay.Link)
			queue = append(queue, pending{at: ended.Add(relayLatency), input: b})
		}
		if err != nil && ev.retries < len(lambdaRetryWaits) {
			queue = append(queue, pending{at: ended.Add(lambdaRetryWaits[ev.retries]), input: ev.input, retries: ev.retries + 1})
		}
	}
	left := curExpiry.Sub(end)
	res.minRemaining = min(res.minRemaining, left)
	res.longestGap = max(res.longestGap, -left)
	return res
}

// TestTokenContinuity simulates a week of refreshes (tokens live 60
// minutes, the schedule fires every 45) with GitHub down at every phase of
// the schedule, and checks that a valid token is stored at every instant.
func TestTokenContinuity(t *testing.T) {
	t.Parallel()
	week := 7 * 24 * time.Hour
	tests := []struct {
		name    string
		model   model
		outage  time.Duration
		span    time.Duration // default: a week
		wantMin time.Duration // the least remaining lifetime must be at least this
		maxGap  time.Duration // > 0: a gap is expected, at most this long
	}{
		{name: "GitHub always up", model: contractModel, wantMin: 15 * time.Minute},
		{name: "7-minute outages", model: contractModel, outage: 7 * time.Minute, wantMin: 7 * time.Minute},
		// GitHub returns a minute before the previous token expires; the
		// link running then retries within 30 s (the backoff's cap), or
		// its successor starts within relayLatency.
		{name: "14-minute outages", model: contractModel, outage: 14 * time.Minute, wantMin: 20 * time.Second},
		// Without the relay, Lambda's two retries end about four minutes
		// after the fire and the next fire comes after the token expired.
		{name: "14-minute outages without the relay", model: model{rate: 45 * time.Minute}, outage: 14 * time.Minute,
			span: 2 * 24 * time.Hour, maxGap: 31 * time.Minute},
		// An outage longer than the overlap cannot be bridged, but the
		// relay ends the gap within a minute of GitHub's return.
		{name: "25-minute outages", model: contractModel, outage: 25 * time.Minute, span: 2 * 24 * time.Hour, maxGap: 11 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			span := tc.span
			if span == 0 {
				span = week
			}
			got := simulate(t, tc.model, tc.outage, span)
			t.Logf("%d invocations (%d failed, %d relayed, longest relay %d links); least remaining lifetime %s; longest gap %s",
				got.invocations, got.failed, got.relayed, got.longestRelay, got.minRemaining, got.longestGap)
			if tc.outage > 0 && got.failed == 0 {
				t.Error("no invocation failed: the outages were not simulated")
			}
			if tc.maxGap > 0 {
				if got.longestGap <= 0 || got.longestGap > tc.maxGap {
					t.Errorf("longest gap %s, want one of at most %s", got.longestGap, tc.maxGap)
				}
				return
			}
			if got.longestGap > 0 || got.minRemaining < tc.wantMin {
				t.Errorf("least remaining lifetime %s (gap %s), want at least %s", got.minRemaining, got.longestGap, tc.wantMin)
			}
			if tc.model.relay && tc.outage >= 14*time.Minute && got.relayed == 0 {
				t.Error("no invocation handed on: the relay was not exercised")
			}
		})
	}
}
