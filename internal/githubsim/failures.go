package githubsim

import (
	"net/http"
	"strconv"
	"time"
)

// Pseudo statuses for FailNext: they are not HTTP status codes but select a
// GitHub rate-limit answer.
const (
	// StatusSecondaryRateLimit answers 403 with GitHub's secondary rate limit
	// message and documentation URL and a Retry-After header.
	StatusSecondaryRateLimit = -1
	// StatusPrimaryRateLimit answers 403 "API rate limit exceeded" with
	// X-RateLimit-Remaining: 0 and X-RateLimit-Reset = now + retry-after.
	StatusPrimaryRateLimit = -2
)

const (
	docsURL            = "https://docs.github.com/rest"
	secondaryLimitDocs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	primaryLimitDocs   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits"
)

type failRule struct {
	method     string
	prefix     string
	statuses   []int
	retryAfter time.Duration
}

// FailNext makes the next len(statuses) requests whose method equals method
// (any method if "") and whose path starts with pathPrefix fail with those
// statuses, in order, with a GitHub-style JSON error body. 429 and
// StatusSecondaryRateLimit carry Retry-After: 1.
func (s *Server) FailNext(method, pathPrefix string, statuses ...int) {
	s.FailNextWithRetryAfter(method, pathPrefix, time.Second, statuses...)
}

// FailNextWithRetryAfter is FailNext with the Retry-After sent on 429 and
// StatusSecondaryRateLimit answers (whole seconds, rounded up), and the reset
// delay of StatusPrimaryRateLimit answers.
func (s *Server) FailNextWithRetryAfter(method, pathPrefix string, retryAfter time.Duration, statuses ...int) {
	if len(statuses) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.failures = append(s.st.failures, &failRule{
		method: method, prefix: pathPrefix,
		statuses: append([]int(nil), statuses...), retryAfter: retryAfter,
	})
}

// PendingFailures counts injected failures not yet consumed.
func (s *Server) PendingFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.st.failures {
		n += len(f.statuses)
	}
	return n
}

// takeFailure consumes the next injected status matching the request.
func (s *Server) takeFailure(r *http.Request) (failRule, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.st.failures {
		if !matchesRequest(f.method, f.prefix, r.Method, r.URL.Path) {
			continue
		}
		status := f.statuses[0]
		f.statuses = f.statuses[1:]
		if len(f.statuses) == 0 {
			s.st.failures = append(s.st.failures[:i:i], s.st.failures[i+1:]...)
		}
		return *f, status, true
	}
	return failRule{}, 0, false
}

func (s *Server) writeInjected(w http.ResponseWriter, f failRule, status int) {
	secs := int64((f.retryAfter + time.Second - 1) / time.Second)
	h := w.Header()
	switch status {
	case StatusSecondaryRateLimit, http.StatusTooManyRequests:
		code := http.StatusForbidden
		if status == http.StatusTooManyRequests {
			code = status
		}
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
		writeErrorDoc(w, code, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", secondaryLimitDocs)
	case StatusPrimaryRateLimit:
		now := s.now()
		h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", strconv.Itoa(rateLimit))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Duration(secs)*time.Second).Unix(), 10))
		h.Set("X-RateLimit-Resource", "core")
		writeErrorDoc(w, http.StatusForbidden, "API rate limit exceeded for installation.", primaryLimitDocs)
	default:
		if status < 100 || status > 599 {
			status = http.StatusInternalServerError
		}
		writeError(w, status, injectedMessage(status))
	}
}

func injectedMessage(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "Problems parsing JSON"
	case http.StatusUnauthorized:
		return "Bad credentials"
	case http.StatusForbidden:
		return "Resource not accessible by integration"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusUnprocessableEntity:
		return "Validation Failed"
	case http.StatusInternalServerError, http.StatusBadGateway:
		return "Server Error"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}
