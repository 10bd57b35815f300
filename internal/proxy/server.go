package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/elazarl/goproxy"
)

// DenyHeader is the response header naming why the proxy refused a request.
const DenyHeader = "X-Km-Deny"

// Options configure a Server.
type Options struct {
	Policy *Policy
	// CA signs the leaf certificates of intercepted HTTPS hosts.
	CA *CA
	// UpstreamRoots verify GitHub's certificates; nil: the system roots.
	UpstreamRoots *x509.CertPool
	// Log receives one line per decision; nil: discarded.
	Log *slog.Logger
}

// Server is the proxy: an http.Handler for absolute-form HTTP requests and
// CONNECT (intercepted with the sandbox CA).
type Server struct {
	gp     *goproxy.ProxyHttpServer
	policy *Policy
	ca     *CA
	log    *slog.Logger
}

// NewServer builds the proxy.
func NewServer(o Options) (*Server, error) {
	if o.Policy == nil || o.CA == nil {
		return nil, errors.New("proxy: a policy and a CA are required")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{gp: goproxy.NewProxyHttpServer(), policy: o.Policy, ca: o.CA, log: log}
	s.gp.Logger = goproxyLog{log}
	s.gp.KeepAcceptEncoding = true // the body bytes pass through as GitHub sent them
	s.gp.Tr = &http.Transport{
		Proxy:                 nil, // never chain to another proxy from the environment
		TLSClientConfig:       &tls.Config{RootCAs: o.UpstreamRoots, MinVersion: tls.VersionTLS12},
		DisableCompression:    true,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   30 * time.Second,
		ExpectContinueTimeout: time.Second,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	s.gp.ConnectDial = func(string, string) (net.Conn, error) {
		return nil, errors.New("km proxy never opens a raw tunnel")
	}
	s.gp.NonproxyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := Decision{Rule: RuleRequest, Reason: "not a proxy request: send absolute-form requests or CONNECT (set HTTPS_PROXY / http.proxy to this address)"}
		s.logDecision(r.Method, r.Host, r.URL.EscapedPath(), d, "")
		writeDeny(w, d)
	})
	s.gp.OnRequest().HandleConnectFunc(s.onConnect)
	s.gp.OnRequest().DoFunc(s.onRequest)
	return s, nil
}

// ServeHTTP serves one proxy request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.gp.ServeHTTP(w, r) }

// Serve serves on ln until ctx is done, then shuts down: no new connections,
// requests in flight get a few seconds to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("km proxy stopped serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stopping km proxy: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("km proxy stopped serving: %w", err)
	}
	return nil
}

func (s *Server) onConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	d := s.policy.Connect(host)
	s.logDecision(http.MethodConnect, host, "", d, "")
	if !d.Allowed {
		ctx.Resp = denyResponse(ctx.Req, d)
		return goproxy.RejectConnect, host
	}
	return &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: s.tlsConfig}, host
}

// tlsConfig is the client-facing TLS of an intercepted CONNECT: a leaf for the
// CONNECT's host, signed by the sandbox CA, HTTP/1.1 only.
func (s *Server) tlsConfig(host string, _ *goproxy.ProxyCtx) (*tls.Config, error) {
	name, _, err := net.SplitHostPort(host)
	if err != nil {
		name = host
	}
	leaf, err := s.ca.Leaf(strings.Trim(name, "[]"))
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{*leaf}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}

func (s *Server) onRequest(req *http.Request, _ *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	d := s.policy.Decide(req.URL)
	s.logDecision(req.Method, req.URL.Host, req.URL.EscapedPath(), d, "")
	if !d.Allowed {
		return req, denyResponse(req, d)
	}
	if d.Target.Kind == KindGit && strings.HasSuffix(req.URL.EscapedPath(), "/git-receive-pack") {
		return s.inspectPush(req, d)
	}
	return req, nil
}

// inspectPush reads the commands of a receive-pack request as it streams and
// decides every ref before one byte of the pack is forwarded. Allowed: the
// request goes upstream with the bytes read so far followed by the rest of the
// body, unbuffered. Refused: the body is read to its end and discarded, and the
// client gets a receive-pack report refusing every ref.
func (s *Server) inspectPush(req *http.Request, d Decision) (*http.Request, *http.Response) {
	host, path := req.URL.Host, req.URL.EscapedPath()
	refuse := func(reason string) (*http.Request, *http.Response) {
		dd := Decision{Rule: RuleMalformed, Reason: reason, Target: d.Target}
		s.logDecision(req.Method, host, path, dd, "")
		return req, denyResponse(req, dd)
	}
	if req.Method != http.MethodPost {
		return refuse("git-receive-pack takes POST")
	}
	if ce := req.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return refuse(fmt.Sprintf("a push body with Content-Encoding %q cannot be inspected", ce))
	}
	br := bufio.NewReaderSize(req.Body, 64<<10)
	pr, err := ParsePushRequest(br)
	if err != nil {
		return refuse(err.Error())
	}
	decisions := s.policy.DecideRefs(pr.Commands)
	reasons := map[string]string{}
	var messages []string
	for i, c := range pr.Commands {
		di := decisions[i]
		di.Target = d.Target
		s.logDecision(req.Method, host, path, di, c.Ref)
		if !di.Allowed {
			if _, dup := reasons[c.Ref]; !dup {
				messages = append(messages, DenialMessage(c.Ref))
			}
			reasons[c.Ref] = di.Reason
		}
	}
	if len(reasons) == 0 {
		req.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(pr.Head), br), req.Body}
		return req, nil
	}
	// Read the pack to its end (never forwarded) so the client sees the report
	// rather than a connection reset in the middle of its upload.
	_, _ = io.Copy(io.Discard, br)
	deny := Decision{Rule: RuleRef, Reason: strings.Join(messages, "; "), Target: d.Target}
	if !pr.Has("report-status") && !pr.Has("report-status-v2") {
		return req, denyResponse(req, deny)
	}
	body := DenyReport(pr, reasons, WholePushRefused, messages)
	resp := goproxy.NewResponse(req, "application/x-git-receive-pack-result", http.StatusOK, "")
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Cache-Control", "no-cache")
	resp.Header.Set(DenyHeader, deny.Rule+": "+deny.Reason)
	return req, resp
}

// denyResponse is a 403 with X-Km-Deny and a one-line body naming the rule.
func denyResponse(req *http.Request, d Decision) *http.Response {
	resp := goproxy.NewResponse(req, "text/plain; charset=utf-8", http.StatusForbidden, denyBody(d))
	resp.Header.Set(DenyHeader, d.Rule+": "+d.Reason)
	// The request's body may be unread: end the connection rather than parse
	// what follows it as the next request.
	resp.Close = true
	return resp
}

func writeDeny(w http.ResponseWriter, d Decision) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set(DenyHeader, d.Rule+": "+d.Reason)
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, denyBody(d))
}

func denyBody(d Decision) string {
	return "km proxy: denied by rule " + d.Rule + ": " + oneLine(d.Reason) + "\n"
}

// logDecision writes the decision line: time, sandbox, method, host, path (no
// query), repo, ref, decision, rule, reason. Headers are never logged.
func (s *Server) logDecision(method, host, path string, d Decision, ref string) {
	decision, level := "allowed", slog.LevelInfo
	if !d.Allowed {
		decision, level = "denied", slog.LevelWarn
	}
	repo := ""
	if d.Target.RepoScoped() {
		repo = d.Target.Owner + "/" + d.Target.Repo
	}
	s.log.LogAttrs(context.Background(), level, "km proxy decision",
		slog.String("sandbox", s.policy.SandboxID()),
		slog.String("method", method),
		slog.String("host", host),
		slog.String("path", path),
		slog.String("repo", repo),
		slog.String("ref", ref),
		slog.String("decision", decision),
		slog.String("rule", d.Rule),
		slog.String("reason", d.Reason),
	)
}

// goproxyLog routes goproxy's own warnings (upstream TLS failures, ...) to the
// log; goproxy logs URLs, never headers.
type goproxyLog struct{ log *slog.Logger }

func (g goproxyLog) Printf(format string, v ...any) {
	g.log.Warn("km proxy transport", slog.String("detail", strings.TrimSpace(fmt.Sprintf(format, v...))))
}
