package lambda

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/payload"
	"github.com/klankermaker/km/internal/tokenmeta"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/state"
)

// SSM is what the handler needs from SSM (*state.AWS implements it).
type SSM interface {
	GetParameters(ctx context.Context, names []string, decrypt bool) (map[string]state.Parameter, error)
	GetParameter(ctx context.Context, name string, decrypt bool) (state.Parameter, error)
	PutParameter(ctx context.Context, in state.PutParameterInput) (int64, error)
}

// WriteReserve is the part of the invocation's remaining time kept for
// writing the token to SSM: GitHub retries stop that long before the
// deadline.
const WriteReserve = 5 * time.Second

// MintedBy is the tokenmeta.Meta.MintedBy of every token the refresher writes.
const MintedBy = "refresher"

// Handler refreshes the tokens of one sandbox per invocation. Use one Handler
// per execution environment (it caches the parsed App key, see
// credentials.go); it is safe for concurrent use.
type Handler struct {
	SSM SSM
	// NewGitHub returns the minter that signs as the App with clientID and
	// key (nil: AppMinter(GitHubOptions(APIURL, Now))).
	NewGitHub func(clientID string, key *rsa.PrivateKey) Minter
	Now       func() time.Time // nil: time.Now
	Logger    *slog.Logger     // nil: JSON to stdout
	Prefix    string           // KM_PREFIX
	APIURL    string           // KM_GITHUB_API_URL

	keys keyCache
}

// Result is the invocation's response: the tokens refreshed.
type Result struct {
	SandboxID string        `json:"sandbox_id"`
	Tokens    []TokenResult `json:"tokens"`
}

// TokenResult describes one stored token (never its value).
type TokenResult struct {
	Owner          string    `json:"owner"`
	InstallationID int64     `json:"installation_id"`
	Parameter      string    `json:"parameter"`
	Repositories   string    `json:"repositories"`
	Permissions    string    `json:"permissions"`
	ExpiresAt      time.Time `json:"expires_at"`
	TokenSHA       string    `json:"token_sha"`
}

// Handle is the Lambda handler: it decodes the schedule's payload and
// refreshes every owner's token. It returns an error when any owner's token
// could not be refreshed (that owner's previous token stays in place; the
// other owners are still refreshed).
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	p, err := payload.Decode(raw)
	if err != nil {
		h.log(ctx, event{SandboxID: p.SandboxID, Err: err})
		return Result{SandboxID: p.SandboxID}, redacted(err)
	}
	res := Result{SandboxID: p.SandboxID, Tokens: []TokenResult{}}
	jobs, err := h.jobs(p)
	if err != nil {
		h.log(ctx, event{SandboxID: p.SandboxID, Err: err})
		return res, redacted(err)
	}
	creds, err := h.credentials(ctx)
	if err != nil {
		for _, j := range jobs {
			h.log(ctx, j.event(fmt.Errorf("sandbox %s, owner %s: %w; the previous token in %s stays in place", j.sandbox, j.owner, err, j.parameter)))
		}
		return res, redacted(fmt.Errorf("refreshing the GitHub tokens of sandbox %s: %w", p.SandboxID, err))
	}
	minter := h.newGitHub()(creds.ClientID, creds.Key)
	var errs []error
	for _, j := range jobs {
		tr, err := h.refresh(ctx, minter, j)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.Tokens = append(res.Tokens, tr)
	}
	if len(errs) > 0 {
		return res, redacted(errors.Join(errs...))
	}
	return res, nil
}

// job is one owner's token to refresh.
type job struct {
	sandbox   string
	owner     string
	keyAlias  string
	parameter string
	req       githubapp.TokenRequest
}

func (j job) event(err error) event {
	return event{
		SandboxID: j.sandbox, Owner: j.owner, InstallationID: j.req.InstallationID, Parameter: j.parameter,
		Repositories: reposString(j.req.Repositories), Permissions: permString(j.req.Permissions), Err: err,
	}
}

// jobs turns the payload into one job per owner, refusing a payload that
// names another prefix or writes outside the sandbox's token parameters.
func (h *Handler) jobs(p payload.Payload) ([]job, error) {
	if p.Prefix != "" && p.Prefix != h.Prefix {
		return nil, fmt.Errorf("refresh payload of sandbox %s is for prefix %q but this function serves prefix %q; run km apply to repair the schedule", p.SandboxID, p.Prefix, h.Prefix)
	}
	alias := p.KeyAlias
	if alias == "" {
		alias = names.New(h.Prefix).KeyAlias(p.SandboxID)
	}
	base := names.TokenParam(p.SandboxID, "", true)
	out := make([]job, 0, len(p.Owners))
	for i, o := range p.Owners {
		param := o.Parameter
		if param == "" {
			param = names.TokenParam(p.SandboxID, o.Owner, i == 0)
		}
		if param != base && !strings.HasPrefix(param, base+"-") {
			return nil, fmt.Errorf("refresh payload of sandbox %s names parameter %s for owner %s, outside the sandbox's token parameters %s*; run km apply to repair the schedule", p.SandboxID, param, o.Owner, base)
		}
		perms := o.Permissions
		if perms == nil {
			perms = p.Permissions
		}
		account := o.Owner
		if account == "*" {
			account = ""
		}
		out = append(out, job{
			sandbox: p.SandboxID, owner: o.Owner, keyAlias: alias, parameter: param,
			req: githubapp.TokenRequest{
				InstallationID: o.InstallationID, Account: account,
				Repositories: o.Repositories, Permissions: perms,
			},
		})
	}
	return out, nil
}

// refresh mints, verifies and stores one owner's token, and logs the outcome.
func (h *Handler) refresh(ctx context.Context, m Minter, j job) (TokenResult, error) {
	fail := func(ev event, err error) (TokenResult, error) {
		err = fmt.Errorf("sandbox %s, owner %s (installation %d): %w; the previous token in %s stays in place",
			j.sandbox, j.owner, j.req.InstallationID, err, j.parameter)
		ev.Err = err
		h.log(ctx, ev)
		return TokenResult{}, err
	}
	ghCtx, cancel := githubContext(ctx)
	tok, err := m.CreateToken(ghCtx, j.req)
	cancel()
	if err != nil {
		if errors.Is(err, githubapp.ErrUnauthorized) {
			h.keys.drop() // re-read the key next time, whatever its version
		}
		return fail(j.event(nil), err)
	}
	now := h.now()
	ev := j.event(nil)
	ev.ExpiresAt, ev.TokenSHA = tok.ExpiresAt, reconcile.TokenSHA(tok.Value)
	if err := verifyGrant(j.req, tok, now); err != nil {
		return fail(ev, err)
	}
	var scopeRepos []string
	if len(j.req.Repositories) > 0 {
		scopeRepos = j.req.Repositories
	}
	err = reconcile.WriteToken(ctx, h.SSM, j.sandbox, reconcile.TokenWrite{
		Parameter: j.parameter, KeyAlias: j.keyAlias, Token: tok, Prefix: h.Prefix,
		Meta: tokenmeta.Meta{
			Owner: j.owner, InstallationID: j.req.InstallationID,
			Scope:        githubapp.ScopeFingerprint(j.req.InstallationID, scopeRepos, j.req.Permissions),
			Repositories: ev.Repositories, Permissions: ev.Permissions,
			MintedAt: now.UTC(), MintedBy: MintedBy,
		},
	})
	if err != nil {
		return fail(ev, err)
	}
	h.log(ctx, ev)
	return TokenResult{
		Owner: j.owner, InstallationID: j.req.InstallationID, Parameter: j.parameter,
		Repositories: ev.Repositories, Permissions: ev.Permissions,
		ExpiresAt: tok.ExpiresAt.UTC(), TokenSHA: ev.TokenSHA,
	}, nil
}

// githubContext bounds GitHub calls so that WriteReserve remains for SSM.
func githubContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) > 2*WriteReserve {
		return context.WithDeadline(ctx, d.Add(-WriteReserve))
	}
	return context.WithCancel(ctx)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) newGitHub() func(string, *rsa.PrivateKey) Minter {
	if h.NewGitHub != nil {
		return h.NewGitHub
	}
	return AppMinter(GitHubOptions(h.APIURL, h.now))
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, nil))
}

// redactedError keeps anything token- or key-shaped out of the message the
// Lambda runtime reports, whatever a wrapped error said.
type redactedError struct{ err error }

func (e redactedError) Error() string { return githubapp.Redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

func redacted(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{err}
}
