package lambda_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/payload"
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

// schedulePolicy is a refresh schedule and its retry behaviour: attempts
// are offsets from each fire (the first is 0). EventBridge Scheduler retries
// "with exponential backoff" without publishing the delays; km apply's
// policy (3 retries, 600 s maximum event age) is modelled as retries after
// 1, 3 and 7 minutes (doubling from one minute).
type schedulePolicy struct {
	rate     time.Duration
	attempts []time.Duration
}

var contractPolicy = schedulePolicy{rate: 45 * time.Minute, attempts: []time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute}}

// continuity is what a simulation observed.
type continuity struct {
	minRemaining time.Duration // least lifetime the stored token had left at any instant
	longestGap   time.Duration // longest time without a valid stored token
	invocations  int
	failed       int
}

// simulate runs the schedule for the given time with GitHub down for
// outage at each phase in turn (one outage every second cycle, its start
// moving through the cycle a minute at a time), driving the production
// handler in-process on the fake clock.
func simulate(t *testing.T, pol schedulePolicy, outage time.Duration, span time.Duration) continuity {
	t.Helper()
	start := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	f := newFixture(t, githubsim.WithClock(clock.Now), githubsim.WithTokenTTL(time.Hour))
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
	sb := f.newSandbox(payload.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
	param := sb.payload.Owners[0].Parameter

	down := &outages{clock: clock, next: http.DefaultTransport}
	if outage > 0 {
		phase := -outage // the first outage ends exactly at a fire
		for slot := start.Add(pol.rate); slot.Before(start.Add(span)); slot = slot.Add(2 * pol.rate) {
			down.windows = append(down.windows, [2]time.Time{slot.Add(phase), slot.Add(phase + outage)})
			if phase += time.Minute; phase >= pol.rate {
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
	h := &lambda.Handler{SSM: f.aws, Prefix: f.prefix, APIURL: f.sim.URL, Now: clock.Now,
		NewGitHub: lambda.AppMinter(o), Logger: (&lineBuffer{}).logger()}

	var res continuity
	var curValue string
	var curExpiry time.Time
	invoke := func(at time.Time) bool {
		clock.Set(at)
		deadline = clock.Now().Add(60 * time.Second)
		res.invocations++
		_, err := h.Handle(context.Background(), sb.input())
		got := f.read(param).Value
		if err != nil {
			res.failed++
			if got != curValue {
				t.Fatalf("a failed invocation at %s changed the stored token", clock.Now())
			}
			return false
		}
		issued, ok := f.sim.LookupToken(got)
		if !ok || got == curValue {
			t.Fatalf("a successful invocation at %s stored no new githubsim token", clock.Now())
		}
		written := clock.Now()
		if curValue != "" {
			left := curExpiry.Sub(written)
			res.minRemaining = min(res.minRemaining, left)
			res.longestGap = max(res.longestGap, -left)
		}
		curValue, curExpiry = got, issued.ExpiresAt
		return true
	}

	res.minRemaining = time.Hour
	if !invoke(start) { // km apply's first token
		t.Fatal("the first token could not be minted")
	}
	end := start.Add(span)
	for fire := start.Add(pol.rate); !fire.After(end); fire = fire.Add(pol.rate) {
		for _, off := range pol.attempts {
			if invoke(fire.Add(off)) {
				break
			}
		}
	}
	left := curExpiry.Sub(end)
	res.minRemaining = min(res.minRemaining, left)
	res.longestGap = max(res.longestGap, -left)
	return res
}

// TestTokenContinuity simulates a week of refreshes (tokens live 60
// minutes) with GitHub down at every phase of the schedule, and checks
// whether a valid token is stored at every instant.
func TestTokenContinuity(t *testing.T) {
	t.Parallel()
	week := 7 * 24 * time.Hour
	tests := []struct {
		name    string
		policy  schedulePolicy
		outage  time.Duration
		wantGap bool
		wantMin time.Duration // the least remaining lifetime must be at least this
		span    time.Duration // default: a week
	}{
		{name: "km apply's schedule, GitHub always up", policy: contractPolicy, wantMin: 14 * time.Minute},
		{name: "km apply's schedule, 7-minute outages", policy: contractPolicy, outage: 7 * time.Minute, wantMin: 7 * time.Minute},
		// The retries of one fire span 7 minutes (600 s at most): an outage
		// that starts at a fire and outlasts them leaves the next fire 45
		// minutes later, after the old token expired. See docs/refresher.md.
		{name: "km apply's schedule, 14-minute outages", policy: contractPolicy, outage: 14 * time.Minute, wantGap: true},
		{name: "rate(25 minutes), 14-minute outages", policy: schedulePolicy{rate: 25 * time.Minute, attempts: contractPolicy.attempts},
			outage: 14 * time.Minute, wantMin: 9 * time.Minute, span: 2 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			span := tc.span
			if span == 0 {
				span = week
			}
			got := simulate(t, tc.policy, tc.outage, span)
			t.Logf("%d invocations (%d failed); least remaining lifetime %s; longest gap %s",
				got.invocations, got.failed, got.minRemaining, got.longestGap)
			if tc.wantGap {
				if got.longestGap <= 0 {
					t.Errorf("no gap: this policy now survives %s outages; update the test and docs/refresher.md", tc.outage)
				}
				return
			}
			if got.longestGap > 0 || got.minRemaining < tc.wantMin {
				t.Errorf("least remaining lifetime %s (gap %s), want at least %s", got.minRemaining, got.longestGap, tc.wantMin)
			}
			if tc.outage > 0 && got.failed == 0 {
				t.Error("no invocation failed: the outages were not simulated")
			}
		})
	}
}
