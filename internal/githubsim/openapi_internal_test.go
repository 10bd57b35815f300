package githubsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// exchangeFor builds an exchange for validation from a request and a JSON
// response body.
func exchangeFor(t *testing.T, method, target string, reqBody string, status int, resp any) exchange {
	t.Helper()
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(method, target, strings.NewReader(reqBody))
	if reqBody != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	return exchange{req: r, body: []byte(reqBody), status: status, header: h, resp: b}
}

func testServer(t *testing.T) *Server {
	t.Helper()
	s := New(WithOpenAPIValidation(), WithKeyBits(1024), WithClock(func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }))
	t.Cleanup(s.Close)
	if _, _, err := s.CreateApp("validator test"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidatorCatchesBadResponses(t *testing.T) {
	s := testServer(t)
	id := s.AddInstallation("acme", "Organization", []string{"api"}, nil)
	s.mu.Lock()
	in := s.st.installations[id]
	good := s.installationJSON(in, s.st.app)
	rp := s.st.findRepo("acme", "api")
	goodRepo := s.repoJSON(rp)
	s.mu.Unlock()

	without := func(m map[string]any, key string) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			if k != key {
				out[k] = v
			}
		}
		return out
	}
	with := func(m map[string]any, key string, v any) map[string]any {
		out := without(m, key)
		out[key] = v
		return out
	}
	tests := []struct {
		name    string
		x       exchange
		wantErr string // "" = valid
	}{
		{"installation valid", exchangeFor(t, "GET", "/app/installations/1", "", 200, good), ""},
		{"installation list valid", exchangeFor(t, "GET", "/app/installations", "", 200, []any{good}), ""},
		{"installation missing id", exchangeFor(t, "GET", "/app/installations/1", "", 200, without(good, "id")), `"id"`},
		{"installation list missing app_id", exchangeFor(t, "GET", "/app/installations", "", 200, []any{without(good, "app_id")}), `"app_id"`},
		{"installation bad selection", exchangeFor(t, "GET", "/app/installations/1", "", 200, with(good, "repository_selection", "some")), "repository_selection"},
		{"installation bad timestamp", exchangeFor(t, "GET", "/app/installations/1", "", 200, with(good, "created_at", "yesterday")), "created_at"},
		{"token missing token", exchangeFor(t, "POST", "/app/installations/1/access_tokens", "", 201, map[string]any{"expires_at": "2025-01-01T00:00:00Z"}), `"token"`},
		{"token repository missing clone_url", exchangeFor(t, "POST", "/app/installations/1/access_tokens", "", 201,
			map[string]any{"token": "ghs_x", "expires_at": "2025-01-01T00:00:00Z", "repositories": []any{without(goodRepo, "clone_url")}}), "clone_url"},
		{"token valid", exchangeFor(t, "POST", "/app/installations/1/access_tokens", `{"repositories":["api"]}`, 201,
			map[string]any{"token": "ghs_x", "expires_at": "2025-01-01T00:00:00Z", "repositories": []any{goodRepo}}), ""},
		{"request permission level not in the enum", exchangeFor(t, "POST", "/app/installations/1/access_tokens", `{"permissions":{"contents":"admin"}}`, 201,
			map[string]any{"token": "ghs_x", "expires_at": "2025-01-01T00:00:00Z"}), "request"},
		{"comment request without body", exchangeFor(t, "POST", "/repos/o/r/issues/1/comments", `{}`, 422,
			map[string]any{"message": "Validation Failed", "documentation_url": docsURL}), `"body"`},
		{"422 without documentation_url", exchangeFor(t, "PATCH", "/repos/o/r/issues/comments/1", `{"body":"x"}`, 422,
			map[string]any{"message": "Validation Failed"}), "documentation_url"},
		{"rate limit missing core", exchangeFor(t, "GET", "/rate_limit", "", 200,
			map[string]any{"rate": map[string]any{"limit": 1, "remaining": 1, "reset": 1, "used": 0}, "resources": map[string]any{"search": map[string]any{"limit": 1, "remaining": 1, "reset": 1, "used": 0}}}), "core"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := s.oapi.check(context.Background(), tt.x)
			if tt.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("valid exchange rejected: %v", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("invalid exchange accepted")
			}
			if joined := strings.Join(errs, "\n"); !strings.Contains(joined, tt.wantErr) {
				t.Errorf("errors %q do not mention %s", joined, tt.wantErr)
			}
		})
	}
}

// TestInstallationAccountNeedsRelaxing shows why relaxInstallationAccount
// exists: GitHub's own schema rejects a real-shaped installation list.
func TestInstallationAccountNeedsRelaxing(t *testing.T) {
	s := testServer(t)
	id := s.AddInstallation("acme", "Organization", nil, nil)
	s.mu.Lock()
	body := []any{s.installationJSON(s.st.installations[id], s.st.app)}
	s.mu.Unlock()

	doc, err := openapi3.NewLoader().LoadFromData(specJSON)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatal(err)
	}
	strict := &validator{router: router, opts: s.oapi.opts}
	x := exchangeFor(t, "GET", "/app/installations", "", 200, body)
	errs := strict.check(context.Background(), x)
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, " "), "account") {
		t.Fatalf("the unpatched schema accepted the list (errors %v); the relaxation may be obsolete", errs)
	}
	if errs := s.oapi.check(context.Background(), x); len(errs) > 0 {
		t.Fatalf("the relaxed schema rejected the list: %v", errs)
	}
}

// TestValidationRecordsInvalidRequests sends an off-spec request through the
// server and expects it in ValidationErrors.
func TestValidationRecordsInvalidRequests(t *testing.T) {
	s := testServer(t)
	req, _ := http.NewRequest("GET", s.URL+"/app/installations?per_page=lots", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	errs := s.ValidationErrors()
	if len(errs) != 1 || !strings.Contains(errs[0], "per_page") || !strings.Contains(errs[0], "request") {
		t.Fatalf("ValidationErrors %q, want one request error about per_page", errs)
	}
}
