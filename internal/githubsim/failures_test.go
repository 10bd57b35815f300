package githubsim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/klankermaker/km/internal/githubsim"
)

func TestFailNext(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api"}, nil)
	mintPath := path("/app/installations/%d/access_tokens", inst)

	f.sim.FailNext("POST", "/app/installations/", 500, 429, 403, 502)
	f.sim.FailNext("GET", "/app", 404) // queued separately: only GETs match it
	if n := f.sim.PendingFailures(); n != 5 {
		t.Fatalf("PendingFailures %d, want 5", n)
	}
	wants := []struct {
		status     int
		retryAfter string
		message    string
	}{
		{500, "", "Server Error"},
		{429, "1", "secondary rate limit"},
		{403, "", "Resource not accessible by integration"},
		{502, "", "Server Error"},
		{201, "", ""},
	}
	for i, w := range wants {
		res := f.call("POST", mintPath, bearer(f.jwt()), nil)
		wantStatus(t, path("attempt %d", i+1), res, w.status)
		if got := res.Header.Get("Retry-After"); got != w.retryAfter {
			t.Errorf("attempt %d: Retry-After %q, want %q", i+1, got, w.retryAfter)
		}
		if w.status != 201 {
			if msg := res.message(t); !strings.Contains(msg, w.message) {
				t.Errorf("attempt %d: message %q, want %q", i+1, msg, w.message)
			}
		}
	}
	wantStatus(t, "GET failure", f.call("GET", "/app", bearer(f.jwt()), nil), 404)
	wantStatus(t, "GET after failure", f.call("GET", "/app", bearer(f.jwt()), nil), 200)
	if n := f.sim.PendingFailures(); n != 0 {
		t.Errorf("PendingFailures %d after use", n)
	}

	reqs := f.sim.RequestsMatching("POST", "/app/installations/")
	if len(reqs) != 5 {
		t.Fatalf("%d POST requests logged, want 5", len(reqs))
	}
	for i, r := range reqs {
		if r.Status != wants[i].status || r.Injected != (i < 4) || r.Path != mintPath || !r.Time.Equal(t0) {
			t.Errorf("request %d logged as %+v", i, r)
		}
	}
	if n := f.sim.CountRequests("", "/app"); n != 7 {
		t.Errorf("CountRequests(any, /app) = %d, want 7", n)
	}
	if n := f.sim.CountRequests("GET", "/"); n != 2 {
		t.Errorf("CountRequests(GET, /) = %d, want 2", n)
	}
	f.sim.ResetRequests()
	if n := len(f.sim.Requests()); n != 0 {
		t.Errorf("%d requests after ResetRequests", n)
	}
}

// TestRateLimitFailuresAsGoGitHubSeesThem checks that the injected rate
// limits are recognised by go-github, the client km uses.
func TestRateLimitFailuresAsGoGitHubSeesThem(t *testing.T) {
	f := newFixture(t)
	// A fresh client per call: go-github remembers rate limits and would
	// refuse to send the next request itself.
	client := func() *github.Client { return ghClient(t, f.sim.URL, f.jwt()) }
	ctx := context.Background()

	f.sim.FailNextWithRetryAfter("GET", "/app", 3*time.Second, githubsim.StatusSecondaryRateLimit, 429)
	_, _, err := client().Apps.Get(ctx, "")
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter != 3*time.Second {
		t.Fatalf("err %v, want AbuseRateLimitError with RetryAfter 3s", err)
	}
	// go-github v62 classifies only 403s as rate limits; a 429 is a plain
	// ErrorResponse whose response carries Retry-After.
	_, _, err = client().Apps.Get(ctx, "")
	var plain *github.ErrorResponse
	if !errors.As(err, &plain) || plain.Response.StatusCode != 429 || plain.Response.Header.Get("Retry-After") != "3" {
		t.Fatalf("err %v, want a 429 ErrorResponse with Retry-After 3", err)
	}

	f.sim.FailNextWithRetryAfter("GET", "/app", time.Minute, githubsim.StatusPrimaryRateLimit)
	_, resp, err := client().Apps.Get(ctx, "")
	var limit *github.RateLimitError
	if !errors.As(err, &limit) || resp.StatusCode != 403 || limit.Rate.Remaining != 0 || !limit.Rate.Reset.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("err %v (resp %v), want RateLimitError resetting at t0+1m", err, resp)
	}
	f.sim.FailNextWithRetryAfter("GET", "/app", 0, 429)
	res := f.call("GET", "/app", bearer(f.jwt()), nil)
	if res.Status != 429 || res.Header.Get("Retry-After") != "0" {
		t.Errorf("Retry-After 0: status %d header %q", res.Status, res.Header.Get("Retry-After"))
	}
}
