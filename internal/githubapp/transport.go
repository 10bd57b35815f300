package githubapp

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Retry policy defaults.
const (
	DefaultMaxRetries   = 4
	DefaultMaxRetryWait = 2 * time.Minute
	retryBaseDelay      = time.Second
	retryMaxDelay       = 30 * time.Second
	maxBufferedBody     = 1 << 20
)

// retryTransport retries what GitHub says is worth retrying: 5xx (but 501),
// 429, and rate-limit 403s (Retry-After, or x-ratelimit-remaining: 0 with
// x-ratelimit-reset). It waits what GitHub asks for, otherwise backs off
// exponentially with jitter, and never waits past the request context's
// deadline: when the next wait would end after it, it returns the last
// response as is. Requests whose body cannot be replayed (no GetBody) are
// sent once. Transport errors are not retried.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	maxWait    time.Duration
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	jitter     func(time.Duration) time.Duration // returns a value in [0, d]
}

func newRetryTransport(next http.RoundTripper, o Options) *retryTransport {
	t := &retryTransport{
		next:       next,
		maxRetries: o.MaxRetries,
		maxWait:    o.MaxRetryWait,
		now:        o.Now,
		sleep:      o.Sleep,
		jitter:     randomJitter,
	}
	switch {
	case t.maxRetries == 0:
		t.maxRetries = DefaultMaxRetries
	case t.maxRetries < 0:
		t.maxRetries = 0
	}
	if t.maxWait <= 0 {
		t.maxWait = DefaultMaxRetryWait
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.sleep == nil {
		t.sleep = SleepContext
	}
	return t
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, retry := t.retryDelay(resp, attempt)
		if !retry || !replayable || attempt >= t.maxRetries || wait > t.maxWait {
			return resp, nil
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return resp, nil
		}
		// Keep the response whole in memory so it can still be returned
		// if the wait is cut short, and free the connection meanwhile.
		bufferBody(resp)
		if err := t.sleep(ctx, wait); err != nil {
			return resp, nil
		}
		resp.Body.Close()
	}
}

// retryDelay says whether resp is worth retrying and after how long.
func (t *retryTransport) retryDelay(resp *http.Response, attempt int) (time.Duration, bool) {
	code := resp.StatusCode
	h := resp.Header
	rateLimited := h.Get("X-Ratelimit-Remaining") == "0" && h.Get("X-Ratelimit-Reset") != ""
	switch {
	case code == http.StatusTooManyRequests:
	case code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported:
	case code == http.StatusForbidden && (h.Get("Retry-After") != "" || rateLimited):
	default:
		return 0, false
	}
	if d, ok := parseRetryAfter(h.Get("Retry-After"), t.now()); ok {
		return d, true
	}
	if rateLimited {
		if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			if d := time.Unix(reset, 0).Sub(t.now()); d > 0 {
				return d, true
			}
		}
	}
	return t.backoff(attempt), true
}

// backoff is "equal jitter": half the exponential delay plus a random part
// of the other half.
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := retryMaxDelay
	if attempt < 10 {
		d = min(retryBaseDelay<<attempt, retryMaxDelay)
	}
	return d/2 + t.jitter(d/2)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func bufferBody(resp *http.Response) {
	if resp.Body == nil {
		resp.Body = http.NoBody
		return
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxBufferedBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
}

func randomJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// SleepContext waits d or until ctx is done, whichever comes first; it is
// the default Options.Sleep.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
