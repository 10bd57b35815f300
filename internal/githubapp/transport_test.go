package githubapp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is an httptest handler answering from a script of responses and
// recording every request it receives.
type scripted struct {
	mu       sync.Mutex
	script   []reply
	requests []recorded
}

type reply struct {
	status  int
	headers map[string]string
	body    string
}

type recorded struct {
	method, path, auth, body string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Authorization"), string(body)})
	rep := reply{status: http.StatusOK, body: `{}`}
	if len(s.script) > 0 {
		rep, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	for k, v := range rep.headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// sleepRecorder is an Options.Sleep that records the waits asked for and
// returns at once (or fails, to stand for a cancelled context).
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
	err   error
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return s.err
}

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRetryTransport(t *testing.T) {
	errBody := `{"message":"boom"}`
	tests := []struct {
		name       string
		script     []reply
		opts       Options
		method     string
		body       io.Reader // nil: none; a plain reader has no GetBody
		noGetBody  bool
		deadline   time.Duration
		sleepErr   error
		wantStatus int
		wantCalls  int
		wantWaits  []time.Duration    // exact waits
		waitRanges [][2]time.Duration // or ranges, for jittered backoff
	}{
		{
			name:       "502 then 503 then 201",
			script:     []reply{{status: 502, body: errBody}, {status: 503, body: errBody}, {status: 201, body: `{"token":"x"}`}},
			method:     "POST",
			body:       strings.NewReader(`{"repositories":["a"]}`),
			wantStatus: 201, wantCalls: 3,
			waitRanges: [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}},
		},
		{
			name:       "persistent 500 gives up after MaxRetries",
			script:     []reply{{status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 500}, {status: 200}},
			wantStatus: 500, wantCalls: 5,
			waitRanges: [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second}, {4 * time.Second, 8 * time.Second}},
		},
		{
			name:       "MaxRetries 1",
			opts:       Options{MaxRetries: 1},
			script:     []reply{{status: 500}, {status: 500}, {status: 200}},
			wantStatus: 500, wantCalls: 2,
			waitRanges: [][2]time.Duration{{500 * time.Millisecond, time.Second}},
		},
		{
			name:       "negative MaxRetries disables retries",
			opts:       Options{MaxRetries: -1},
			script:     []reply{{status: 502}, {status: 200}},
			wantStatus: 502, wantCalls: 1,
		},
		{
			name:       "429 Retry-After seconds honoured",
			script:     []reply{{status: 429, headers: map[string]string{"Retry-After": "7"}}, {status: 200}},
			wantStatus: 200, wantCalls: 2, wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name: "429 Retry-After HTTP date honoured",
			script: []reply{{status: 429, headers: map[string]string{"Retry-After": testNow.Add(9 * time.Second).Format(http.TimeFormat)}},
				{status: 200}},
			wantStatus: 200, wantCalls: 2, wantWaits: []time.Duration{9 * time.Second},
		},
		{
			name:       "503 with Retry-After honoured",
			script:     []reply{{status: 503, headers: map[string]string{"Retry-After": "2"}}, {status: 200}},
			wantStatus: 200, wantCalls: 2, wantWaits: []time.Duration{2 * time.Second},
		},
		{
			name: "secondary rate limit 403 with Retry-After",
			script: []reply{{status: 403, headers: map[string]string{"Retry-After": "3"},
				body: `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`},
				{status: 200}},
			wantStatus: 200, wantCalls: 2, wantWaits: []time.Duration{3 * time.Second},
		},
		{
			name: "403 with remaining 0 waits until x-ratelimit-reset",
			script: []reply{{status: 403, headers: map[string]string{"X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset": strconv.FormatInt(testNow.Add(42*time.Second).Unix(), 10)}}, {status: 200}},
			wantStatus: 200, wantCalls: 2, wantWaits: []time.Duration{42 * time.Second},
		},
		{
			name: "429 with a reset in the past backs off",
			script: []reply{{status: 429, headers: map[string]string{"X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset": strconv.FormatInt(testNow.Add(-time.Minute).Unix(), 10)}}, {status: 200}},
			wantStatus: 200, wantCalls: 2,
			waitRanges: [][2]time.Duration{{500 * time.Millisecond, time.Second}},
		},
		{name: "plain 403 not retried", script: []reply{{status: 403, body: `{"message":"Resource not accessible by integration"}`}, {status: 200}}, wantStatus: 403, wantCalls: 1},
		{name: "401 not retried", script: []reply{{status: 401}, {status: 200}}, wantStatus: 401, wantCalls: 1},
		{name: "404 not retried", script: []reply{{status: 404}, {status: 200}}, wantStatus: 404, wantCalls: 1},
		{name: "422 not retried", script: []reply{{status: 422}, {status: 200}}, wantStatus: 422, wantCalls: 1},
		{name: "501 not retried", script: []reply{{status: 501}, {status: 200}}, wantStatus: 501, wantCalls: 1},
		{
			name:       "wait past the deadline: stop with the last response",
			script:     []reply{{status: 429, headers: map[string]string{"Retry-After": "10"}, body: errBody}, {status: 200}},
			deadline:   2 * time.Second,
			wantStatus: 429, wantCalls: 1,
		},
		{
			name:       "wait within the deadline: retried",
			script:     []reply{{status: 429, headers: map[string]string{"Retry-After": "1"}}, {status: 200}},
			deadline:   time.Minute,
			wantStatus: 200, wantCalls: 2, wantWaits: []time.Duration{time.Second},
		},
		{
			name:       "Retry-After beyond MaxRetryWait: not retried",
			opts:       Options{MaxRetryWait: 30 * time.Second},
			script:     []reply{{status: 429, headers: map[string]string{"Retry-After": "3600"}}, {status: 200}},
			wantStatus: 429, wantCalls: 1,
		},
		{
			name:       "body without GetBody is not replayed",
			script:     []reply{{status: 502}, {status: 200}},
			method:     "POST",
			body:       strings.NewReader(`{"a":1}`),
			noGetBody:  true,
			wantStatus: 502, wantCalls: 1,
		},
		{
			name:       "cancelled while waiting: last response returned",
			script:     []reply{{status: 503, body: errBody}, {status: 200}},
			sleepErr:   context.Canceled,
			wantStatus: 503, wantCalls: 1,
			waitRanges: [][2]time.Duration{{500 * time.Millisecond, time.Second}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{script: tt.script}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			rec := &sleepRecorder{err: tt.sleepErr}
			o := tt.opts
			o.Now = func() time.Time { return testNow }
			o.Sleep = rec.sleep
			hc := &http.Client{Transport: newRetryTransport(http.DefaultTransport, o)}

			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			method := tt.method
			if method == "" {
				method = "GET"
			}
			var sent string
			var body io.Reader
			if tt.body != nil {
				b, _ := io.ReadAll(tt.body)
				sent = string(b)
				body = bytes.NewReader(b)
				if tt.noGetBody {
					body = io.NopCloser(body) // hides the type: no GetBody
				}
			}
			req, err := http.NewRequestWithContext(ctx, method, hs.URL+"/x", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus >= 400 && len(tt.script) > 0 && tt.script[0].body != "" && string(got) != tt.script[0].body {
				t.Errorf("last response body = %q, want %q intact", got, tt.script[0].body)
			}
			if n := srv.count(); n != tt.wantCalls {
				t.Errorf("requests = %d, want %d", n, tt.wantCalls)
			}
			for i, r := range srv.requests {
				if r.body != sent {
					t.Errorf("attempt %d sent body %q, want %q", i+1, r.body, sent)
				}
			}
			if tt.wantWaits != nil || tt.waitRanges == nil {
				if len(rec.waits) != len(tt.wantWaits) {
					t.Fatalf("waits = %v, want %v", rec.waits, tt.wantWaits)
				}
				for i := range tt.wantWaits {
					if rec.waits[i] != tt.wantWaits[i] {
						t.Errorf("wait %d = %v, want %v", i, rec.waits[i], tt.wantWaits[i])
					}
				}
			} else {
				if len(rec.waits) != len(tt.waitRanges) {
					t.Fatalf("waits = %v, want %d in %v", rec.waits, len(tt.waitRanges), tt.waitRanges)
				}
				for i, rg := range tt.waitRanges {
					if rec.waits[i] < rg[0] || rec.waits[i] > rg[1] {
						t.Errorf("wait %d = %v, want within %v", i, rec.waits[i], rg)
					}
				}
			}
		})
	}
}

func TestSleepContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("SleepContext on a cancelled context = %v, want context.Canceled", err)
	}
	if err := SleepContext(context.Background(), time.Millisecond); err != nil {
		t.Errorf("SleepContext(1ms) = %v", err)
	}
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	tr := newRetryTransport(http.DefaultTransport, Options{})
	for attempt := 0; attempt < 12; attempt++ {
		full := min(retryBaseDelay<<min(attempt, 10), retryMaxDelay)
		for i := 0; i < 200; i++ {
			d := tr.backoff(attempt)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
}
