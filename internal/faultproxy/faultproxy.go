// Package faultproxy is a test HTTP proxy, used like httptest.Server, that sits
// in front of kumo (AWS) or the GitHub simulator and makes them behave like the
// real services on a bad day: per-API token buckets from internal/quota
// (speed-up applied) answered with each service's own throttling error in its
// own protocol; a seeded share of 500/503 answers, connection resets before
// the request reaches the backend and after it did (the client never learns
// the write happened), and slow answers; on the GitHub side 502/503, secondary
// rate limits (403 and 429 with Retry-After) and an App-level budget of token
// mints.
//
// It is for tests only; it must not import state, reconcile or cmd/*.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/klankermaker/km/internal/quota"
	"github.com/klankermaker/km/internal/revproxy"
)

// Faults are the shares (0 to 1) of requests that fail, drawn from a seeded
// generator.
type Faults struct {
	ServerError float64 // 500 or 503 (AWS), 502 or 503 (GitHub), backend not reached
	ResetBefore float64 // the connection is reset before the backend sees the request
	ResetAfter  float64 // the backend did it, then the connection is reset
	Slow        float64 // answered after SlowDelay
	SlowDelay   time.Duration
	// SecondaryLimit (GitHub): 403 or 429 with Retry-After: 1.
	SecondaryLimit float64
}

// Config configures a proxy.
type Config struct {
	Seed   uint64
	Faults Faults
	// Quotas, when set, are enforced per API (AWS) or on token mints
	// (GitHub: the github:mints bucket, per hour scaled like the rest).
	Quotas *quota.Table
}

// Stats counts what the proxy did, per kind.
type Stats struct {
	Requests, Throttled, ServerErrors, ResetsBefore, ResetsAfter, Slow, SecondaryLimited int64
	// Calls counts the requests per API ("kms:CreateKey") within the quota
	// (throttled ones are not counted: Table.Bound of Calls is a lower
	// bound of the time they took).
	Calls map[string]int64
}

// Server is a running proxy.
type Server struct {
	URL string

	srv    *httptest.Server
	rp     *revproxy.Proxy
	github bool
	cfg    Config

	mu       sync.Mutex
	rng      *rand.Rand
	limiters map[string]*rate.Limiter
	stats    Stats
	total    atomic.Int64
}

// NewAWS starts a proxy in front of an AWS endpoint (kumo's URL).
func NewAWS(backend string, cfg Config) *Server { return start(backend, cfg, false) }

// NewGitHub starts a proxy in front of the GitHub simulator.
func NewGitHub(backend string, cfg Config) *Server { return start(backend, cfg, true) }

func start(backend string, cfg Config, github bool) *Server {
	u, err := url.Parse(backend)
	if err != nil {
		panic(fmt.Sprintf("faultproxy: backend URL %q: %v", backend, err))
	}
	s := &Server{
		rp: revproxy.New(u), github: github, cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x6b6d)), limiters: map[string]*rate.Limiter{},
		stats: Stats{Calls: map[string]int64{}},
	}
	s.rp.ErrorLog = nil
	s.rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	if cfg.Quotas != nil {
		for _, l := range cfg.Quotas.Buckets() {
			s.limiters[l.Bucket] = rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst)
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the proxy.
func (s *Server) Close() { s.srv.Close() }

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Calls = make(map[string]int64, len(s.stats.Calls))
	for k, v := range s.stats.Calls {
		st.Calls[k] = v
	}
	return st
}

type fault int

const (
	none fault = iota
	serverError
	resetBefore
	resetAfter
	slow
	secondary
)

// draw picks the fault of one request.
func (s *Server) draw() fault {
	f := s.cfg.Faults
	x := s.rng.Float64()
	for _, c := range []struct {
		p float64
		f fault
	}{{f.ServerError, serverError}, {f.ResetBefore, resetBefore}, {f.ResetAfter, resetAfter}, {f.Slow, slow}, {f.SecondaryLimit, secondary}} {
		if x < c.p {
			return c.f
		}
		x -= c.p
	}
	return none
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var c call
	if s.github {
		c = githubCall(r)
	} else {
		c = awsCall(r, body)
	}
	s.mu.Lock()
	s.stats.Requests++
	f := s.draw()
	if f == secondary && !s.github {
		f = none
	}
	s.mu.Unlock()

	if l, ok := s.limiter(c.api); ok && !l.Allow() {
		s.count(func(st *Stats) { st.Throttled++ })
		c.throttle(w)
		return
	}
	s.count(func(st *Stats) { st.Calls[c.api]++ })
	switch f {
	case serverError:
		s.count(func(st *Stats) { st.ServerErrors++ })
		c.serverError(w, s.coin())
		return
	case resetBefore:
		s.count(func(st *Stats) { st.ResetsBefore++ })
		reset(w)
		return
	case resetAfter:
		s.count(func(st *Stats) { st.ResetsAfter++ })
		s.rp.ServeHTTP(httptest.NewRecorder(), r)
		reset(w)
		return
	case slow:
		s.count(func(st *Stats) { st.Slow++ })
		select {
		case <-time.After(s.cfg.Faults.SlowDelay):
		case <-r.Context().Done():
			return
		}
	case secondary:
		s.count(func(st *Stats) { st.SecondaryLimited++ })
		code := http.StatusForbidden
		if s.coin() {
			code = http.StatusTooManyRequests
		}
		w.Header().Set("Retry-After", "1")
		githubError(w, code, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
		return
	}
	s.rp.ServeHTTP(w, r)
}

func (s *Server) coin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(2) == 0
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func (s *Server) limiter(api string) (*rate.Limiter, bool) {
	if s.cfg.Quotas == nil {
		return nil, false
	}
	l, ok := s.cfg.Quotas.Lookup(api)
	if !ok {
		return nil, false
	}
	return s.limiters[l.Bucket], true
}

// reset drops the client's connection with a TCP RST (SO_LINGER 0).
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: cannot hijack the connection")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
