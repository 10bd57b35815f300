package githubsim

import (
	"net/http"
	"strings"
	"time"
)

// Request is one request the simulator answered.
type Request struct {
	Method   string
	Path     string // URL path, e.g. /app/installations/7/access_tokens
	Query    string // raw query, without '?'
	Status   int    // status sent to the client
	Time     time.Time
	Injected bool // answered by FailNext rather than by the simulator
}

func (s *Server) logRequest(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.requests = append(s.st.requests, r)
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.st.requests...)
}

// RequestsMatching returns the requests whose method equals method (any
// method if "") and whose path starts with pathPrefix.
func (s *Server) RequestsMatching(method, pathPrefix string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if matchesRequest(method, pathPrefix, r.Method, r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// CountRequests counts the requests RequestsMatching would return.
func (s *Server) CountRequests(method, pathPrefix string) int {
	return len(s.RequestsMatching(method, pathPrefix))
}

// ResetRequests forgets the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.requests = nil
}

func matchesRequest(method, prefix, gotMethod, gotPath string) bool {
	if method != "" && !strings.EqualFold(method, gotMethod) {
		return false
	}
	return strings.HasPrefix(gotPath, prefix)
}

// countAPICall counts a REST API request against the simulated rate limit
// (GET /rate_limit does not count, as on GitHub).
func (s *Server) countAPICall(r *http.Request) {
	if r.URL.Path == "/rate_limit" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.apiCalls++
}
