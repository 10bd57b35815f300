package githubapp

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestRedact(t *testing.T) {
	pemText := "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAsecretsecret\n-----END RSA PRIVATE KEY-----"
	tests := []struct{ in, mustNot, want string }{
		{"token ghs_16C7e42F292c6912E7710c838347Ae178B4a rejected", "16C7e42F", "ghs_…(redacted)"},
		{"pat ghp_abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghij", "ghp_…(redacted)"},
		{"fine-grained github_pat_11AAAAAAA0_abcdefghijklmnop", "11AAAAAAA0", "github_pat_…(redacted)"},
		{"oauth gho_abcdefghijkl and user-to-server ghu_abcdefghijkl", "abcdefghijkl", "gho_…(redacted)"},
		{"key: " + pemText + " end", "MIIEpAIBAAKCAQEA", "[redacted PEM]"},
		{"truncated key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0", "MIIEvQIB", "[redacted PEM]"},
		{"jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJJdjEifQ.c2lnbmF0dXJlc2ln", "c2lnbmF0dXJl", "[redacted JWT]"},
		{"Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnop", "Bearer [redacted]"},
		{"nothing secret about installation 123 (my-org)", "\x00", "nothing secret about installation 123 (my-org)"},
	}
	for _, tt := range tests {
		got := Redact(tt.in)
		if strings.Contains(got, tt.mustNot) {
			t.Errorf("Redact(%q) = %q still contains %q", tt.in, got, tt.mustNot)
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("Redact(%q) = %q, want it to contain %q", tt.in, got, tt.want)
		}
	}
}

// TestAPIErrorScrubsWhatGitHubSays feeds GitHub messages that (in a broken
// world) echo secrets and checks that none reaches Error().
func TestAPIErrorScrubsWhatGitHubSays(t *testing.T) {
	srv := &scripted{script: []reply{{status: 422, body: `{"message":"bad token ` + fakeToken +
		` -----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----","errors":[{"message":"also ghp_abcdefghijklmnop"}]}`}}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := NewAppClient(AppAuth{ClientID: "Iv1.x", Signer: NewRSASigner(newRSAKey(t))}, Options{APIURL: hs.URL})
	_, err := c.CreateToken(context.Background(), TokenRequest{InstallationID: 9, Account: "acme", Repositories: []string{"a"}})
	if err == nil {
		t.Fatal("CreateToken succeeded on a 422")
	}
	msg := err.Error()
	for _, secret := range []string{fakeToken[4:], "MIIEsecret", "-----BEGIN", "abcdefghijklmnop"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks %q: %s", secret, msg)
		}
	}
	if !errors.Is(err, ErrUnprocessable) {
		t.Errorf("errors.Is(ErrUnprocessable) = false: %v", err)
	}
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) {
		t.Error("go-github's ErrorResponse is not reachable with errors.As")
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 422 || ae.InstallationID != 9 || ae.Account != "acme" || ae.Op != "mint installation token" {
		t.Errorf("APIError fields = %+v", ae)
	}
}

func TestAPIErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  *APIError
		want []string
	}{
		{"app 401", &APIError{Op: "mint installation token", Status: 401, InstallationID: 1, Account: "acme", Message: "Bad credentials", kind: ErrUnauthorized, auth: authApp},
			[]string{"installation 1 (acme)", "HTTP 401: Bad credentials", "private key in SSM matches the App", "clock"}},
		{"token 401", &APIError{Op: "list comments", Status: 401, kind: ErrUnauthorized, auth: authToken},
			[]string{"token is expired, revoked or wrong"}},
		{"suspended", &APIError{Op: "mint installation token", Status: 403, InstallationID: 2, Account: "acme", kind: ErrSuspended},
			[]string{"suspended", "unsuspend it in the settings of acme"}},
		{"uninstalled, account known", &APIError{Op: "mint installation token", Status: 404, InstallationID: 3, Account: "acme", kind: ErrInstallationNotFound},
			[]string{"uninstalled from acme", "km configure github --discover --force"}},
		{"uninstalled, account unknown", &APIError{Op: "look up installation", Status: 404, InstallationID: 3, kind: ErrInstallationNotFound},
			[]string{"uninstalled from the account of installation 3"}},
		{"422", &APIError{Op: "mint installation token", Status: 422, InstallationID: 4, Account: "acme", Message: "There is at least one repository that does not exist or is not accessible", kind: ErrUnprocessable},
			[]string{"a repository left the installation or a permission is no longer granted", "not accessible", "acme"}},
		{"rate", &APIError{Op: "list", Status: 429, kind: ErrRateLimited, RetryAfter: 90e9},
			[]string{"rate limited", "wait 1m30s"}},
		{"server", &APIError{Op: "list", Status: 502, kind: ErrServer},
			[]string{"after retries", "githubstatus"}},
		{"unreachable", &APIError{Op: "list", Message: "dial tcp: connection refused"},
			[]string{"cannot reach the GitHub API", "connection refused", "github.apiURL"}},
		{"doc url", &APIError{Op: "x", Status: 404, kind: ErrNotFound, DocURL: "https://docs.github.com/x"},
			[]string{"(see https://docs.github.com/x)"}},
	}
	for _, tt := range tests {
		got := tt.err.Error()
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q does not contain %q", tt.name, got, w)
			}
		}
		if tt.err.kind != nil && !errors.Is(tt.err, tt.err.kind) {
			t.Errorf("%s: errors.Is(kind) = false", tt.name)
		}
	}
}
