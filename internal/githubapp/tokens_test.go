package githubapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

const fakeToken = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"

func TestTokenNeverPrintsValue(t *testing.T) {
	tok := Token{Value: fakeToken, ExpiresAt: testNow, InstallationID: 42, Repositories: []string{"a"}, Permissions: map[string]string{"contents": "read"}}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10v"} {
		outs = append(outs, fmt.Sprintf(f, tok), fmt.Sprintf(f, &tok), fmt.Sprintf(f, []Token{tok}), fmt.Sprintf(f, map[string]Token{"k": tok}))
	}
	outs = append(outs, tok.String(), tok.GoString(), fmt.Sprint(tok), fmt.Sprintln(tok))
	js, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js))
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("minted", "token", tok)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("minted", "token", tok)
	outs = append(outs, logged.String())
	for _, o := range outs {
		if strings.Contains(o, fakeToken) || strings.Contains(o, fakeToken[4:12]) {
			t.Errorf("token value leaked: %s", o)
		}
	}
	if got := tok.String(); got != "ghs_…(redacted)" {
		t.Errorf("String() = %q, want ghs_…(redacted)", got)
	}
	if !strings.Contains(fmt.Sprintf("%+v", tok), "InstallationID:42") {
		t.Errorf("%%+v lost the non-secret fields: %+v", tok)
	}
	for in, want := range map[string]string{
		"":                                "(no token)",
		"github_pat_11ABCDEFG_0123456789": "github_pat_…(redacted)",
		"ghp_abcdef":                      "ghp_…(redacted)",
		"v1.0123456789abcdef":             "…(redacted)",
	} {
		if got := (Token{Value: in}).String(); got != want {
			t.Errorf("Token{%q}.String() = %q, want %q", in, got, want)
		}
	}
}

func TestScopeFingerprint(t *testing.T) {
	perms := map[string]string{"contents": "write", "metadata": "read"}
	base := ScopeFingerprint(7, []string{"b", "a"}, perms)
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("fingerprint %q is not sha256:<64 hex>", base)
	}
	same := []struct {
		name  string
		repos []string
		perms map[string]string
	}{
		{"order", []string{"a", "b"}, perms},
		{"case", []string{"A", "b"}, perms},
		{"duplicates", []string{"a", "b", "a"}, perms},
		{"perm map built differently", []string{"a", "b"}, map[string]string{"metadata": "read", "contents": "write"}},
	}
	for _, tt := range same {
		if got := ScopeFingerprint(7, tt.repos, tt.perms); got != base {
			t.Errorf("%s: fingerprint changed: %s != %s", tt.name, got, base)
		}
	}
	differ := []struct {
		name  string
		id    int64
		repos []string
		perms map[string]string
	}{
		{"installation", 8, []string{"a", "b"}, perms},
		{"repo removed", 7, []string{"a"}, perms},
		{"all repos", 7, nil, perms},
		{"permission level", 7, []string{"a", "b"}, map[string]string{"contents": "read", "metadata": "read"}},
		{"permission added", 7, []string{"a", "b"}, map[string]string{"contents": "write", "metadata": "read", "issues": "read"}},
		{"repo name that looks like a separator", 7, []string{"a,b"}, perms},
	}
	for _, tt := range differ {
		if got := ScopeFingerprint(tt.id, tt.repos, tt.perms); got == base {
			t.Errorf("%s: fingerprint did not change", tt.name)
		}
	}
	if ScopeFingerprint(1, nil, nil) != ScopeFingerprint(1, []string{}, map[string]string{}) {
		t.Error("nil and empty scopes differ")
	}
}

func TestCreateTokenValidatesBeforeSending(t *testing.T) {
	srv := &scripted{}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := NewAppClient(AppAuth{ClientID: "Iv1.x", Signer: NewRSASigner(newRSAKey(t))}, Options{APIURL: hs.URL})

	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprintf("repo-%d", i)
	}
	tests := []struct {
		name   string
		req    TokenRequest
		want   string
		wantIs error
	}{
		{"501 repositories", TokenRequest{InstallationID: 5, Repositories: many}, "501 repositories requested, GitHub allows at most 500", ErrTooManyRepositories},
		{"no installation", TokenRequest{}, "no installation ID", nil},
		{"owner in name", TokenRequest{InstallationID: 5, Repositories: []string{"org/repo"}}, `"org/repo" is not a repository short name`, nil},
		{"wildcard", TokenRequest{InstallationID: 5, Repositories: []string{"*"}}, "not a repository short name", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateToken(context.Background(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CreateToken error = %v, want it to contain %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
		})
	}
	if n := srv.count(); n != 0 {
		t.Errorf("%d requests sent for invalid token requests, want 0", n)
	}

	// 500 is allowed.
	srv.script = []reply{{status: 201, body: `{"token":"` + fakeToken + `","expires_at":"2025-03-01T13:00:00Z"}`}}
	if _, err := c.CreateToken(context.Background(), TokenRequest{InstallationID: 5, Repositories: many[:500]}); err != nil {
		t.Fatalf("500 repositories: %v", err)
	}
	var sent struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal([]byte(srv.requests[0].body), &sent); err != nil || len(sent.Repositories) != 500 {
		t.Errorf("sent %d repositories (%v), want 500", len(sent.Repositories), err)
	}
}

func TestTokenClientRequiresToken(t *testing.T) {
	c := NewAppClient(AppAuth{ClientID: "Iv1.x", Signer: NewRSASigner(newRSAKey(t))}, Options{APIURL: "http://127.0.0.1:1"})
	if err := c.RevokeToken(context.Background()); err == nil || !strings.Contains(err.Error(), "NewTokenClient") {
		t.Errorf("RevokeToken on an App client = %v, want a misuse error", err)
	}
}

func TestBadAPIURL(t *testing.T) {
	c := NewTokenClient(fakeToken, Options{APIURL: "api.github.com"})
	_, err := c.ListInstallations(context.Background())
	if err == nil || !strings.Contains(err.Error(), "KM_GITHUB_API_URL") {
		t.Errorf("error = %v, want advice on the API URL", err)
	}
	if c := NewTokenClient(fakeToken, Options{APIURL: "https://ghe.example.com/api/v3"}); c.APIURL() != "https://ghe.example.com/api/v3/" {
		t.Errorf("APIURL() = %q, want the GHES URL with a trailing slash and nothing else", c.APIURL())
	}
	if c := NewTokenClient(fakeToken, Options{}); c.APIURL() != DefaultAPIURL {
		t.Errorf("default APIURL() = %q", c.APIURL())
	}
}
