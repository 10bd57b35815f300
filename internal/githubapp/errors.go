package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// Kinds of failure, matched with errors.Is against an *APIError.
var (
	// ErrUnauthorized: 401. For the App: a bad JWT (wrong key, clock skew);
	// for a token: expired, revoked or wrong.
	ErrUnauthorized = errors.New("GitHub rejected the credentials")
	// ErrSuspended: 403, the installation is suspended.
	ErrSuspended = errors.New("GitHub App installation suspended")
	// ErrInstallationNotFound: 404 on an installation: the App was uninstalled.
	ErrInstallationNotFound = errors.New("GitHub App installation not found")
	// ErrUnprocessable: 422; for a token request, a repository left the
	// installation or a permission is no longer granted.
	ErrUnprocessable = errors.New("GitHub could not process the request")
	// ErrRateLimited: 429 or a rate-limit 403, still failing after retries.
	ErrRateLimited = errors.New("rate limited by GitHub")
	// ErrServer: 5xx, still failing after retries.
	ErrServer = errors.New("GitHub server error")
	// ErrForbidden: any other 403 (missing permission).
	ErrForbidden = errors.New("GitHub refused the request")
	// ErrNotFound: 404 on anything but an installation.
	ErrNotFound = errors.New("not found on GitHub")
	// ErrTooManyRepositories: a token request names more than 500
	// repositories; refused before any request is sent.
	ErrTooManyRepositories = errors.New("too many repositories for one installation token")
)

// APIError is a failed GitHub call. Error() names the operation, the
// installation, the cause and the fix; errors.Is matches its kind (ErrUnauthorized,
// ErrSuspended, ...) and, through Unwrap, go-github's own error.
type APIError struct {
	Op             string        // what km was doing, e.g. "mint installation token"
	Status         int           // HTTP status; 0 when GitHub could not be reached
	InstallationID int64         // 0 when not about an installation
	Account        string        // the installation's account login, when known
	Message        string        // GitHub's message (never a token)
	DocURL         string        // GitHub's documentation_url
	RetryAfter     time.Duration // rate limits: how long GitHub asked to wait, when known

	kind error
	auth authKind
	err  error
}

// Unwrap returns the kind and go-github's error.
func (e *APIError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.InstallationID != 0 {
		fmt.Fprintf(&b, " for installation %d", e.InstallationID)
		if e.Account != "" {
			fmt.Fprintf(&b, " (%s)", e.Account)
		}
	}
	b.WriteString(": ")
	cause, fix := e.explain()
	b.WriteString(cause)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
		b.WriteString(")")
	} else if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if fix != "" {
		b.WriteString("; ")
		b.WriteString(fix)
	}
	if e.DocURL != "" {
		fmt.Fprintf(&b, " (see %s)", e.DocURL)
	}
	return Redact(b.String())
}

func (e *APIError) account() string {
	if e.Account != "" {
		return e.Account
	}
	if e.InstallationID != 0 {
		return fmt.Sprintf("the account of installation %d", e.InstallationID)
	}
	return "the account"
}

// explain returns the cause and the fix for the error's kind.
func (e *APIError) explain() (cause, fix string) {
	switch e.kind {
	case ErrUnauthorized:
		if e.auth == authApp {
			return "GitHub rejected the App's JWT",
				"check the App's private key in SSM matches the App (compare the key fingerprint km doctor prints with the one in the App's settings) and the clock of this machine (the JWT is valid from 60 s before to 5 min after now)"
		}
		return "GitHub rejected the token",
			"the token is expired, revoked or wrong; mint a new one (km apply refreshes sandbox tokens) or check GITHUB_TOKEN"
	case ErrSuspended:
		return "the installation is suspended",
			fmt.Sprintf("unsuspend it in the settings of %s (Settings → Applications → Installed GitHub Apps → Configure)", e.account())
	case ErrInstallationNotFound:
		return "the installation does not exist",
			fmt.Sprintf("the App was uninstalled from %s; reinstall it or run km configure github --discover --force", e.account())
	case ErrUnprocessable:
		if e.InstallationID != 0 {
			return "a repository left the installation or a permission is no longer granted",
				fmt.Sprintf("grant the repository or permission to the App in the settings of %s, or remove it from the profile", e.account())
		}
		return "GitHub could not process the request", ""
	case ErrRateLimited:
		if e.RetryAfter > 0 {
			return "rate limited by GitHub", fmt.Sprintf("wait %s and try again", e.RetryAfter.Round(time.Second))
		}
		return "rate limited by GitHub", "wait a while and try again"
	case ErrServer:
		return "GitHub failed (server error) after retries", "try again later; check https://www.githubstatus.com"
	case ErrForbidden:
		if e.auth == authToken {
			return "GitHub refused the request", "the token lacks the permission this needs (PR comments need pull-requests: write)"
		}
		return "GitHub refused the request", "check the App's permissions and the installation's repository access"
	case ErrNotFound:
		return "not found", "check the name or number, and that the credentials can see it"
	}
	if e.Status == 0 {
		return "cannot reach the GitHub API", "check github.apiURL in km.yaml (or KM_GITHUB_API_URL) and the network"
	}
	return "unexpected response from GitHub", ""
}

// Redact removes anything that looks like a GitHub token, a JWT, a bearer
// credential or a PEM block from s. Every APIError message goes through it;
// it is exported for callers that print text of unknown origin.
func Redact(s string) string {
	s = pemPattern.ReplaceAllString(s, "[redacted PEM]")
	s = tokenPattern.ReplaceAllString(s, "${1}…(redacted)")
	s = jwtPattern.ReplaceAllString(s, "[redacted JWT]")
	return bearerPattern.ReplaceAllString(s, "${1} [redacted]")
}

var (
	pemPattern    = regexp.MustCompile(`(?s)-----BEGIN.*?(?:-----END[^-]*-----|\z)`)
	tokenPattern  = regexp.MustCompile(`\b(gh[pousr]_|github_pat_|v1\.)[A-Za-z0-9_]{8,}`)
	jwtPattern    = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
	bearerPattern = regexp.MustCompile(`(?i)\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{16,}`)
)

// apiError turns what go-github returned into an *APIError.
func (c *Client) apiError(op string, installationID int64, account string, err error) error {
	if err == nil {
		return nil
	}
	e := &APIError{Op: op, InstallationID: installationID, Account: account, auth: c.auth, err: err}
	var je *jwtError
	if errors.As(err, &je) {
		return fmt.Errorf("%s: %w", op, je)
	}
	var (
		rle *github.RateLimitError
		are *github.AbuseRateLimitError
		er  *github.ErrorResponse
	)
	switch {
	case errors.As(err, &rle):
		e.kind, e.Message = ErrRateLimited, rle.Message
		e.Status = statusOf(rle.Response, http.StatusForbidden)
		if !rle.Rate.Reset.IsZero() {
			e.RetryAfter = max(rle.Rate.Reset.Sub(c.now()), 0)
		}
	case errors.As(err, &are):
		e.kind, e.Message = ErrRateLimited, are.Message
		e.Status = statusOf(are.Response, http.StatusForbidden)
		if are.RetryAfter != nil {
			e.RetryAfter = *are.RetryAfter
		}
	case errors.As(err, &er):
		e.Status = statusOf(er.Response, 0)
		e.Message = errorMessage(er)
		e.DocURL = er.DocumentationURL
		e.kind = kindOf(e.Status, e.Message, installationID)
		if e.kind == ErrRateLimited && er.Response != nil {
			if d, ok := parseRetryAfter(er.Response.Header.Get("Retry-After"), c.now()); ok {
				e.RetryAfter = d
			}
		}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Message = "gave up: " + err.Error()
		return &ctxError{e}
	default:
		e.Message = err.Error()
	}
	return e
}

// ctxError reports a cancelled or timed-out call without the network advice.
type ctxError struct{ *APIError }

func (e *ctxError) Error() string { return Redact(e.Op + ": " + e.Message) }

func statusOf(resp *http.Response, def int) int {
	if resp == nil {
		return def
	}
	return resp.StatusCode
}

func kindOf(status int, message string, installationID int64) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden && strings.Contains(strings.ToLower(message), "suspended"):
		return ErrSuspended
	case status == http.StatusForbidden && strings.Contains(strings.ToLower(message), "rate limit"):
		return ErrRateLimited
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound && installationID != 0:
		return ErrInstallationNotFound
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusUnprocessableEntity:
		return ErrUnprocessable
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return nil
}

func errorMessage(er *github.ErrorResponse) string {
	parts := []string{}
	if er.Message != "" {
		parts = append(parts, er.Message)
	}
	for _, d := range er.Errors {
		switch {
		case d.Message != "":
			parts = append(parts, d.Message)
		case d.Code != "":
			parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s %s %s", d.Code, d.Resource, d.Field)))
		}
	}
	return strings.Join(parts, "; ")
}
