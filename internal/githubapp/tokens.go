package githubapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// MaxTokenRepositories is GitHub's limit on repositories per installation token.
const MaxTokenRepositories = 500

// TokenRequest asks for an installation token.
type TokenRequest struct {
	InstallationID int64
	// Account is the installation's account login; it only makes errors
	// clearer ("the App was uninstalled from my-org").
	Account string
	// Repositories are short names (no owner). Nil or empty: every
	// repository the installation grants.
	Repositories []string
	// Permissions, e.g. {"contents": "write", "metadata": "read"}. Nil or
	// empty: every permission the installation grants.
	Permissions map[string]string
}

// Token is an installation access token. Its formatted forms (%v, %+v, %#v,
// %s, %q, JSON, slog) never show Value.
type Token struct {
	Value          string
	ExpiresAt      time.Time
	InstallationID int64
	// Repositories the token is limited to (short names), as GitHub
	// reported them; nil when it covers all the installation grants.
	Repositories []string
	// Permissions granted, as GitHub reported them.
	Permissions map[string]string
}

// String returns "ghs_…(redacted)".
func (t Token) String() string { return redactToken(t.Value) }

// GoString keeps the value out of %#v.
func (t Token) GoString() string {
	return fmt.Sprintf("githubapp.Token{Value:%q, ExpiresAt:%s, InstallationID:%d, Repositories:%q, Permissions:%v}",
		redactToken(t.Value), t.ExpiresAt.Format(time.RFC3339), t.InstallationID, t.Repositories, t.Permissions)
}

// Format makes every fmt verb print the redacted form.
func (t Token) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, t.GoString())
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "{Value:%s ExpiresAt:%s InstallationID:%d Repositories:%v Permissions:%v}",
			redactToken(t.Value), t.ExpiresAt.Format(time.RFC3339), t.InstallationID, t.Repositories, t.Permissions)
	case verb == 'q':
		fmt.Fprintf(f, "%q", t.String())
	default:
		io.WriteString(f, t.String())
	}
}

// MarshalJSON writes everything but the value, which is redacted.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value          string            `json:"value"`
		ExpiresAt      time.Time         `json:"expires_at"`
		InstallationID int64             `json:"installation_id"`
		Repositories   []string          `json:"repositories,omitempty"`
		Permissions    map[string]string `json:"permissions,omitempty"`
	}{redactToken(t.Value), t.ExpiresAt, t.InstallationID, t.Repositories, t.Permissions})
}

// LogValue keeps the value out of slog output.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("value", redactToken(t.Value)),
		slog.Time("expires_at", t.ExpiresAt),
		slog.Int64("installation_id", t.InstallationID),
		slog.Any("repositories", t.Repositories),
	)
}

func redactToken(v string) string {
	if v == "" {
		return "(no token)"
	}
	if strings.HasPrefix(v, "github_pat_") {
		return "github_pat_…(redacted)"
	}
	if i := strings.Index(v, "_"); i > 0 && i <= 4 {
		return v[:i+1] + "…(redacted)"
	}
	return "…(redacted)"
}

var repoNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// CreateToken mints an installation token limited to req's repositories and
// permissions (POST /app/installations/{id}/access_tokens). It needs an App
// client. More than 500 repositories are refused before any request.
func (c *Client) CreateToken(ctx context.Context, req TokenRequest) (Token, error) {
	const op = "mint installation token"
	if c.initErr != nil {
		return Token{}, c.initErr
	}
	if req.InstallationID <= 0 {
		return Token{}, fmt.Errorf("%s: no installation ID; run km configure github --discover --force", op)
	}
	if n := len(req.Repositories); n > MaxTokenRepositories {
		return Token{}, fmt.Errorf("%s for installation %d: %d repositories requested, GitHub allows at most %d per token; use owner/* in allowedRepos (all repositories the installation grants) or narrow the profile: %w",
			op, req.InstallationID, n, MaxTokenRepositories, ErrTooManyRepositories)
	}
	for _, r := range req.Repositories {
		if !repoNamePattern.MatchString(r) {
			return Token{}, fmt.Errorf("%s for installation %d: %q is not a repository short name (no owner, no wildcard)", op, req.InstallationID, r)
		}
	}
	body := struct {
		Repositories []string          `json:"repositories,omitempty"`
		Permissions  map[string]string `json:"permissions,omitempty"`
	}{req.Repositories, req.Permissions}
	hreq, err := c.gh.NewRequest(http.MethodPost, fmt.Sprintf("app/installations/%d/access_tokens", req.InstallationID), body)
	if err != nil {
		return Token{}, fmt.Errorf("%s: %w", op, err)
	}
	if c.mints != nil {
		if err := c.mints.Wait(ctx); err != nil {
			return Token{}, fmt.Errorf("%s for installation %d: waiting for the App's mint budget (%.2f per second, quotas github:mints in km.yaml): %w", op, req.InstallationID, float64(c.mints.Limit()), err)
		}
	}
	var out struct {
		Token        string            `json:"token"`
		ExpiresAt    time.Time         `json:"expires_at"`
		Permissions  map[string]string `json:"permissions"`
		Repositories []struct {
			Name string `json:"name"`
		} `json:"repositories"`
	}
	if _, err := c.gh.Do(ctx, hreq, &out); err != nil {
		return Token{}, c.apiError(op, req.InstallationID, req.Account, err)
	}
	if out.Token == "" {
		return Token{}, fmt.Errorf("%s for installation %d: GitHub answered without a token", op, req.InstallationID)
	}
	tok := Token{
		Value:          out.Token,
		ExpiresAt:      out.ExpiresAt,
		InstallationID: req.InstallationID,
		Permissions:    out.Permissions,
	}
	for _, r := range out.Repositories {
		tok.Repositories = append(tok.Repositories, r.Name)
	}
	return tok, nil
}

// RevokeToken revokes the token a token client was made with
// (DELETE /installation/token). A token that is already expired or revoked
// (401, 404) is not an error.
func (c *Client) RevokeToken(ctx context.Context) error {
	_, err := c.RevokeTokenStatus(ctx)
	return err
}

// RevokeTokenStatus is RevokeToken that also tells whether the token was
// already dead (GitHub answered 401 or 404: expired or revoked before).
func (c *Client) RevokeTokenStatus(ctx context.Context) (alreadyDead bool, err error) {
	const op = "revoke installation token"
	if c.initErr != nil {
		return false, c.initErr
	}
	if c.auth != authToken {
		return false, fmt.Errorf("%s: needs a client made with NewTokenClient", op)
	}
	_, err = c.gh.Apps.RevokeInstallationToken(ctx)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil &&
		(er.Response.StatusCode == http.StatusUnauthorized || er.Response.StatusCode == http.StatusNotFound) {
		return true, nil
	}
	if err != nil {
		return false, c.apiError(op, 0, "", err)
	}
	return false, nil
}

// ScopeFingerprint is a stable "sha256:<hex>" digest of a token's scope:
// the installation, the repositories (case-insensitive, order and duplicates
// ignored; nil and empty mean the same) and the permissions. Two scopes have
// the same fingerprint exactly when they grant the same access, which is
// what drift detection compares.
func ScopeFingerprint(installationID int64, repos []string, perms map[string]string) string {
	rs := make([]string, 0, len(repos))
	for _, r := range repos {
		rs = append(rs, strings.ToLower(strings.TrimSpace(r)))
	}
	sort.Strings(rs)
	rs = slices.Compact(rs)
	ps := make([]string, 0, len(perms))
	for k, v := range perms {
		ps = append(ps, strings.ToLower(k)+"="+strings.ToLower(v))
	}
	sort.Strings(ps)
	canon, _ := json.Marshal(struct {
		Installation int64    `json:"installation"`
		Repositories []string `json:"repositories"`
		Permissions  []string `json:"permissions"`
	}{installationID, rs, ps})
	sum := sha256.Sum256(canon)
	return "sha256:" + hex.EncodeToString(sum[:])
}
