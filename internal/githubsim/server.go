package githubsim

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"
)

// Server is a running GitHub simulator. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is the base URL of both the REST API and the web/git side, e.g.
	// http://127.0.0.1:41234 (no trailing slash).
	URL string

	cfg        config
	gitRoot    string
	ownGitRoot bool
	mux        *http.ServeMux
	oapi       *validator // nil unless WithOpenAPIValidation

	hs    *httptest.Server // set by New and NewTLS
	caPEM []byte           // set by NewTLS
	srv   *http.Server     // set by NewOn

	closeOnce sync.Once

	mu sync.Mutex
	st state
}

// New starts a simulator on 127.0.0.1 on a random port, like
// httptest.NewServer. It panics if the server cannot be set up (as httptest
// does); call Close when done.
func New(opts ...Option) *Server {
	s, err := newServer(opts)
	if err != nil {
		panic(fmt.Sprintf("githubsim: %v", err))
	}
	s.hs = httptest.NewUnstartedServer(s)
	s.hs.Start()
	s.URL = s.hs.URL
	return s
}

// NewOn starts a simulator listening on addr (host:port, e.g.
// "127.0.0.1:8090"), for the demo. An unspecified host (":8090", "0.0.0.0")
// is advertised in URL as 127.0.0.1.
func NewOn(addr string, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, hostPort, err := s.listen(addr)
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + hostPort
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// listen opens addr for NewOn and NewOnTLS and returns the host:port to
// advertise (an unspecified host as 127.0.0.1); on failure it removes the
// server's git root.
func (s *Server) listen(addr string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.removeGitRoot()
		return nil, "", fmt.Errorf("githubsim: listen on %s: %w (choose a free address)", addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return ln, net.JoinHostPort(host, fmt.Sprint(tcp.Port)), nil
}

func newServer(opts []Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.keyBits < 1024 {
		return nil, fmt.Errorf("WithKeyBits(%d): RSA keys need at least 1024 bits", cfg.keyBits)
	}
	if cfg.perPageMax < 1 {
		return nil, errors.New("WithPerPageMax needs a positive number")
	}
	s := &Server{cfg: cfg, st: newState()}
	if cfg.gitRoot != "" {
		if err := os.MkdirAll(cfg.gitRoot, 0o755); err != nil {
			return nil, fmt.Errorf("create git root %s: %w", cfg.gitRoot, err)
		}
		s.gitRoot = cfg.gitRoot
	} else {
		dir, err := os.MkdirTemp("", "githubsim-git-")
		if err != nil {
			return nil, fmt.Errorf("create temporary git root: %w", err)
		}
		s.gitRoot, s.ownGitRoot = dir, true
	}
	if cfg.validate {
		v, err := newValidator()
		if err != nil {
			s.removeGitRoot()
			return nil, err
		}
		s.oapi = v
	}
	s.mux = s.routes()
	return s, nil
}

// Close shuts the server down, blocking until outstanding requests finish
// (for servers made by New), and removes the temporary git root.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.hs != nil {
			s.hs.Close()
		}
		if s.srv != nil {
			_ = s.srv.Close()
		}
		s.removeGitRoot()
	})
}

func (s *Server) removeGitRoot() {
	if s.ownGitRoot {
		_ = os.RemoveAll(s.gitRoot)
	}
}

// GitRoot is the directory holding the bare repositories
// ({GitRoot}/{owner}/{name}.git).
func (s *Server) GitRoot() string { return s.gitRoot }

func (s *Server) now() time.Time { return s.cfg.clock() }

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /app", s.handleGetApp)
	m.HandleFunc("GET /app/installations", s.handleListInstallations)
	m.HandleFunc("GET /app/installations/{installation_id}", s.handleGetInstallation)
	m.HandleFunc("POST /app/installations/{installation_id}/access_tokens", s.handleCreateToken)
	m.HandleFunc("GET /orgs/{org}/installation", s.handleOrgInstallation)
	m.HandleFunc("GET /users/{username}/installation", s.handleUserInstallation)
	m.HandleFunc("GET /repos/{owner}/{repo}/installation", s.handleRepoInstallation)
	m.HandleFunc("GET /installation/repositories", s.handleInstallationRepos)
	m.HandleFunc("DELETE /installation/token", s.handleRevokeToken)
	m.HandleFunc("POST /app-manifests/{code}/conversions", s.handleConversion)
	m.HandleFunc("GET /settings/apps/new", s.handleManifest)
	m.HandleFunc("POST /settings/apps/new", s.handleManifest)
	m.HandleFunc("GET /organizations/{org}/settings/apps/new", s.handleManifest)
	m.HandleFunc("POST /organizations/{org}/settings/apps/new", s.handleManifest)
	m.HandleFunc("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", s.handleListComments)
	m.HandleFunc("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", s.handleCreateComment)
	m.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", s.handleUpdateComment)
	m.HandleFunc("DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}", s.handleDeleteComment)
	m.HandleFunc("GET /rate_limit", s.handleRateLimit)
	m.HandleFunc("GET /{owner}/{repo}/info/refs", s.handleGit)
	m.HandleFunc("POST /{owner}/{repo}/git-upload-pack", s.handleGit)
	m.HandleFunc("POST /{owner}/{repo}/git-receive-pack", s.handleGit)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found")
	})
	return m
}

// ServeHTTP records the request, applies injected failures and OpenAPI
// validation, and dispatches to the handlers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	at := s.now()
	injected := false
	defer func() {
		s.logRequest(Request{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Status: rec.statusCode(), Time: at, Injected: injected,
		})
	}()
	if rule, status, ok := s.takeFailure(r); ok {
		injected = true
		s.writeInjected(rec, rule, status)
		return
	}
	if !isGitPath(r.URL.Path) {
		s.countAPICall(r)
		setAPIHeaders(rec, s.rateLimitHeaders())
	}
	if s.oapi != nil {
		if s.serveValidated(rec, r) {
			return
		}
	}
	s.mux.ServeHTTP(rec, r)
}

// statusRecorder remembers the status written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
