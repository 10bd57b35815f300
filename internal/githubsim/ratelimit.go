package githubsim

import (
	"net/http"
	"strconv"
	"time"
)

const rateLimit = 5000

// rateWindow returns used, remaining and the reset time of the simulated
// core rate limit (every REST request counts, never exhausted by itself).
func (s *Server) rateWindow() (used, remaining int, reset int64) {
	s.mu.Lock()
	used = s.st.apiCalls
	s.mu.Unlock()
	used = min(used, rateLimit)
	return used, rateLimit - used, s.now().Add(time.Hour).Unix()
}

func (s *Server) rateLimitHeaders() map[string]string {
	used, remaining, reset := s.rateWindow()
	return map[string]string{
		"X-RateLimit-Limit":     strconv.Itoa(rateLimit),
		"X-RateLimit-Remaining": strconv.Itoa(remaining),
		"X-RateLimit-Used":      strconv.Itoa(used),
		"X-RateLimit-Reset":     strconv.FormatInt(reset, 10),
		"X-RateLimit-Resource":  "core",
	}
}

func (s *Server) handleRateLimit(w http.ResponseWriter, r *http.Request) {
	used, remaining, reset := s.rateWindow()
	core := map[string]any{"limit": rateLimit, "remaining": remaining, "reset": reset, "used": used}
	fresh := func(limit int) map[string]any {
		return map[string]any{"limit": limit, "remaining": limit, "reset": reset, "used": 0}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"resources": map[string]any{
			"core":                 core,
			"search":               fresh(30),
			"graphql":              fresh(5000),
			"integration_manifest": fresh(5000),
			"code_search":          fresh(10),
		},
		"rate": core,
	})
}
