package lambda

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
)

// SSM is what the handler needs from SSM (*state.AWS implements it).
type SSM interface {
	GetParameters(ctx context.Context, names []string, decrypt bool) (map[string]state.Parameter, error)
	GetParameter(ctx context.Context, name string, decrypt bool) (state.Parameter, error)
	PutParameter(ctx context.Context, in state.PutParameterInput) (int64, error)
	DescribeParameters(ctx context.Context, path string) ([]state.Parameter, error)
	GetParameterHistory(ctx context.Context, name string, decrypt bool) ([]state.Parameter, error)
}

// WriteReserve is the part of the invocation's remaining time kept for
// writing the token to SSM: GitHub retries stop that long before the
// deadline.
const WriteReserve = 5 * time.Second

// MintedBy is the sandboxtoken.Meta.MintedBy of every token the refresher writes.
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
	// Invoker hands a refresh that failed during a GitHub outage on to a
	// new invocation (see relay.go); nil: never relay.
	Invoker Invoker
	// Function is the name the relay invokes (""; {Prefix}-github-token-refresher).
	Function string
	// NewTokenClient returns the client that revokes one token, authenticated
	// by that token (nil: githubapp.NewTokenClient with GitHubOptions).
	NewTokenClient func(token string) TokenRevoker

	keys keyCache
}

// Result is the invocation's response: the tokens refreshed.
type Result struct {
	SandboxID string        `json:"sandbox_id"`
	Tokens    []TokenResult `json:"tokens"`
	// HandedOn is set when the failed owners were handed on to a relay
	// (the invocation then succeeds: the relay owns the failure).
	HandedOn *sandboxtoken.Relay `json:"handed_on,omitempty"`
	// History and Revoked answer a revoke request (sandboxtoken.RevokeRequest):
	// the same JSON as sandboxtoken.RevokeResult.
	History bool                         `json:"history,omitempty"`
	Revoked []sandboxtoken.RevokeOutcome `json:"revoked,omitempty"`
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
	if sandboxtoken.ActionOf(raw) == sandboxtoken.ActionRevoke {
		return h.revoke(ctx, raw)
	}
	p, err := sandboxtoken.DecodePayload(raw)
	if err != nil {
		h.log(ctx, event{SandboxID: p.SandboxID, Err: err})
		return Result{SandboxID: p.SandboxID}, redacted(err)
	}
	res := Result{SandboxID: p.SandboxID, Tokens: []TokenResult{}}
	jobs, err := h.jobs(p)
	if err != nil {
		h.log(ctx, event{SandboxID: p.SandboxID, RelayLink: relayLink(p), Err: err})
		return res, redacted(err)
	}
	stored, err := h.SSM.DescribeParameters(ctx, sandboxtoken.SandboxFolder(p.SandboxID))
	if err != nil {
		err = fmt.Errorf("reading the token parameters of sandbox %s before refreshing them: %w; the previous tokens stay in place", p.SandboxID, err)
		h.log(ctx, event{SandboxID: p.SandboxID, Err: err})
		return res, redacted(err)
	}
	byName := make(map[string]state.Parameter, len(stored))
	for _, prm := range stored {
		byName[prm.Name] = prm
	}
	var refusals []error
	kept := jobs[:0]
	for _, j := range jobs {
		if err := h.checkStored(j, byName); err != nil {
			ev := j.event(fmt.Errorf("sandbox %s, owner %s: %w", j.sandbox, j.owner, err))
			ev.RelayLink = relayLink(p)
			h.log(ctx, ev)
			refusals = append(refusals, ev.Err)
			continue
		}
		kept = append(kept, j)
	}
	jobs = kept
	if len(jobs) == 0 {
		return res, redacted(errors.Join(refusals...))
	}
	creds, err := h.credentials(ctx)
	if err != nil {
		for _, j := range jobs {
			h.log(ctx, j.event(fmt.Errorf("sandbox %s, owner %s: %w; the previous token in %s stays in place", j.sandbox, j.owner, err, j.parameter)))
		}
		return res, redacted(fmt.Errorf("refreshing the GitHub tokens of sandbox %s: %w", p.SandboxID, err))
	}
	minter := h.newGitHub()(creds.ClientID, creds.Key)
	var (
		errs   []error
		failed []job
		events []event
	)
	for _, j := range jobs {
		tr, ev, err := h.refresh(ctx, minter, j)
		ev.RelayLink = relayLink(p)
		events = append(events, ev)
		if err != nil {
			errs = append(errs, err)
			failed = append(failed, j)
			continue
		}
		res.Tokens = append(res.Tokens, tr)
	}
	if until := h.relayUntil(ctx, p, failed, errs); !until.IsZero() {
		relay, err := h.handOn(ctx, p, failed, until)
		if err != nil {
			errs = append(errs, err)
		} else {
			res.HandedOn = relay
			for i := range events {
				if events[i].Err != nil {
					events[i].RetryUntil = until
				}
			}
			errs = nil
		}
	}
	for _, ev := range events {
		h.log(ctx, ev)
	}
	errs = append(errs, refusals...)
	if len(errs) > 0 {
		return res, redacted(errors.Join(errs...))
	}
	return res, nil
}

func relayLink(p sandboxtoken.Payload) int {
	if p.Relay == nil {
		return 0
	}
	return p.Relay.Link
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

// RefreshError is every error Handle returns (the Lambda runtime reports
// its name as errorType). Its message passes through githubapp.Redact, so
// nothing token- or key-shaped reaches the caller whatever a wrapped error
// said; errors.Is still sees the cause (githubapp.ErrUnprocessable, ...).
type RefreshError struct{ err error }

func (e *RefreshError) Error() string { return githubapp.Redact(e.err.Error()) }
func (e *RefreshError) Unwrap() error { return e.err }

func redacted(err error) error {
	if err == nil {
		return nil
	}
	return &RefreshError{err}
}
