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
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/klankermaker/km/internal/quota"
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
	rp     *httputil.ReverseProxy
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
		rp: httputil.NewSingleHostReverseProxy(u), github: github, cfg: cfg,
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

// call is one request, identified, with the error answers of its protocol.
type call struct {
	api      string
	protocol string // json, rest, query, github
	service  string
}

var credentialRe = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)

// awsCall identifies the service (from the SigV4 credential scope) and the
// operation (X-Amz-Target for JSON, Action for query, method and path for
// REST).
func awsCall(r *http.Request, body []byte) call {
	svc := ""
	if m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		svc = m[1]
	}
	c := call{service: svc}
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		t := r.Header.Get("X-Amz-Target")
		c.protocol, c.api = "json", svc+":"+t[strings.LastIndexByte(t, '.')+1:]
	case svc == "iam" || svc == "sts":
		v, _ := url.ParseQuery(string(body))
		c.protocol, c.api = "query", svc+":"+v.Get("Action")
	default:
		c.protocol, c.api = "rest", svc+":"+restOperation(svc, r.Method, r.URL.Path)
	}
	return c
}

// restOperation names the REST operations km calls (Scheduler, Lambda).
func restOperation(svc, method, path string) string {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch svc {
	case "scheduler":
		kind := "Schedule"
		if len(seg) > 0 && seg[0] == "schedule-groups" {
			kind = "ScheduleGroup"
		}
		if len(seg) == 1 && method == http.MethodGet {
			return "List" + kind + "s"
		}
		return map[string]string{"POST": "Create", "PUT": "Update", "GET": "Get", "DELETE": "Delete"}[method] + kind
	case "lambda":
		last := seg[len(seg)-1]
		switch {
		case last == "invocations":
			return "Invoke"
		case last == "code":
			return "UpdateFunctionCode"
		case last == "configuration" && method == http.MethodPut:
			return "UpdateFunctionConfiguration"
		case last == "configuration":
			return "GetFunctionConfiguration"
		case last == "recursion-config" && method == http.MethodPut:
			return "PutFunctionRecursionConfig"
		case last == "recursion-config":
			return "GetFunctionRecursionConfig"
		case last == "functions" && method == http.MethodPost:
			return "CreateFunction"
		case last == "functions":
			return "ListFunctions"
		case method == http.MethodDelete:
			return "DeleteFunction"
		}
		return "GetFunction"
	}
	return method + " " + path
}

// throttle answers the service's throttling error in its protocol.
func (c call) throttle(w http.ResponseWriter) {
	switch c.protocol {
	case "json":
		jsonError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	case "query":
		queryError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
	case "rest":
		code := "ThrottlingException"
		if c.service == "lambda" {
			code = "TooManyRequestsException"
			w.Header().Set("Retry-After", "1")
		}
		restError(w, http.StatusTooManyRequests, code, "Rate exceeded")
	case "github":
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(time.Second).Unix()))
		githubError(w, http.StatusForbidden, "API rate limit exceeded for the App's installation token mints.")
	}
}

// serverError answers 500 or 503 (AWS) / 502 or 503 (GitHub).
func (c call) serverError(w http.ResponseWriter, unavailable bool) {
	switch c.protocol {
	case "json":
		if unavailable {
			jsonError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Service is unavailable")
		} else {
			jsonError(w, http.StatusInternalServerError, "InternalFailure", "Internal failure")
		}
	case "query":
		if unavailable {
			queryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable")
		} else {
			queryError(w, http.StatusInternalServerError, "InternalFailure", "Internal failure")
		}
	case "rest":
		code := "InternalServerException"
		if c.service == "lambda" {
			code = "ServiceException"
		}
		if unavailable {
			restError(w, http.StatusServiceUnavailable, code, "Service is unavailable")
		} else {
			restError(w, http.StatusInternalServerError, code, "Internal failure")
		}
	case "github":
		if unavailable {
			githubError(w, http.StatusServiceUnavailable, "Service Unavailable")
		} else {
			githubError(w, http.StatusBadGateway, "Server Error")
		}
	}
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}

func restError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"Message":%q,"message":%q}`, msg, msg)
}

func queryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>faultproxy</RequestId></ErrorResponse>`, code, msg)
}

func githubError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"}`, msg)
}

var mintRe = regexp.MustCompile(`^/(api/v3/)?app/installations/[0-9]+/access_tokens$`)

// githubCall identifies a GitHub request: token mints draw from github:mints.
func githubCall(r *http.Request) call {
	c := call{protocol: "github", service: "github"}
	if r.Method == http.MethodPost && mintRe.MatchString(r.URL.Path) {
		c.api = "github:CreateInstallationToken"
	} else {
		c.api = "github:" + r.Method + " " + r.URL.Path
	}
	return c
}
