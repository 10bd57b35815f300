package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
)

// Revocation. km apply and km destroy retire tokens (a sandbox or an owner
// removed, a scope narrowed, a key replaced, a token re-minted) and invoke
// the refresher synchronously with a sandboxtoken.RevokeRequest: the refresher
// is, besides the sandbox itself, the only principal the key policies let
// decrypt a token, and GitHub revokes an installation token only when the
// request is authenticated by that token (DELETE /installation/token).
//
// For each parameter named, the refresher reads every version SSM still
// keeps (GetParameterHistory with decryption, paginated) and revokes each
// whose metadata does not say it expired already. An endpoint without
// GetParameterHistory (kumo) falls back to the current version
// (GetParameter): that one is revoked, and the older versions are reported
// unreadable with the latest time they can expire (an installation token
// lives an hour, and each was written before the current one). The answer
// carries short hashes and outcomes, never a token.

// TokenRevoker revokes the token it was made with; *githubapp.Client made
// with NewTokenClient implements it.
type TokenRevoker interface {
	RevokeTokenStatus(ctx context.Context) (alreadyDead bool, err error)
}

// TokenLifetime is how long GitHub installation tokens live.
const TokenLifetime = time.Hour

func (h *Handler) tokenClient(tok string) TokenRevoker {
	if h.NewTokenClient != nil {
		return h.NewTokenClient(tok)
	}
	return githubapp.NewTokenClient(tok, GitHubOptions(h.APIURL, h.now))
}

// checkRevoke applies the naming rules to a revoke request.
func (h *Handler) checkRevoke(r sandboxtoken.RevokeRequest) error {
	if r.Prefix != "" && r.Prefix != h.Prefix {
		return refused("revoke request of sandbox %q is for prefix %q but this function serves prefix %q", r.SandboxID, r.Prefix, h.Prefix)
	}
	if err := names.New(h.Prefix).CheckSandboxID(r.SandboxID); err != nil {
		return refused("%v", err)
	}
	for _, p := range r.Parameters {
		if _, _, ok := sandboxtoken.ParamOwner(r.SandboxID, p.Name); !ok {
			return refused("revoke request of sandbox %s names %s, which is not one of its token parameters (%s*)", r.SandboxID, p.Name, sandboxtoken.Param(r.SandboxID, "", true))
		}
		if p.BelowVersion < 0 {
			return refused("revoke request of sandbox %s: below_version %d for %s", r.SandboxID, p.BelowVersion, p.Name)
		}
	}
	return nil
}

// revoke answers a revoke request. It fails only when the request itself is
// refused; each token's outcome (failures included) is in the result.
func (h *Handler) revoke(ctx context.Context, raw json.RawMessage) (Result, error) {
	r, err := sandboxtoken.DecodeRevoke(raw)
	if err == nil {
		err = h.checkRevoke(r)
	}
	res := Result{SandboxID: r.SandboxID, Tokens: []TokenResult{}, Revoked: []sandboxtoken.RevokeOutcome{}}
	if err != nil {
		if !errors.Is(err, ErrRefused) {
			err = fmt.Errorf("%w: %v", ErrRefused, err)
		}
		h.log(ctx, event{SandboxID: r.SandboxID, Err: err})
		return res, redacted(err)
	}
	descs := map[string]sandboxtoken.Meta{}
	if ps, err := h.SSM.DescribeParameters(ctx, sandboxtoken.SandboxFolder(r.SandboxID)); err == nil {
		for _, p := range ps {
			if m, err := sandboxtoken.DecodeMeta(p.Description); err == nil {
				descs[p.Name] = m
			}
		}
	}
	res.History = true
	for _, p := range r.Parameters {
		outs, history := h.revokeParam(ctx, p, descs[p.Name])
		if !history {
			res.History = false
		}
		for _, o := range outs {
			h.logRevoke(ctx, r.SandboxID, o)
		}
		res.Revoked = append(res.Revoked, outs...)
	}
	return res, nil
}

// revokeParam revokes the versions of one parameter; history reports
// whether GetParameterHistory was readable.
func (h *Handler) revokeParam(ctx context.Context, p sandboxtoken.RevokeParam, cur sandboxtoken.Meta) ([]sandboxtoken.RevokeOutcome, bool) {
	now := h.now()
	versions, err := h.SSM.GetParameterHistory(ctx, p.Name, true)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return []sandboxtoken.RevokeOutcome{{Parameter: p.Name, Outcome: sandboxtoken.OutcomeMissing}}, true
	case errors.Is(err, state.ErrUnsupported):
		return h.revokeCurrent(ctx, p, cur, now), false
	case err != nil:
		return []sandboxtoken.RevokeOutcome{{Parameter: p.Name, Outcome: sandboxtoken.OutcomeFailed,
			Error: githubapp.Redact(fmt.Sprintf("reading the history of %s: %v", p.Name, err))}}, true
	}
	var out []sandboxtoken.RevokeOutcome
	if p.BeforeOverwrite {
		for _, v := range versions {
			out = append(out, sandboxtoken.RevokeOutcome{Parameter: p.Name, Version: v.Version, Outcome: sandboxtoken.OutcomeDeferred})
		}
		return out[max(0, len(out)-1):], true
	}
	for _, v := range versions {
		if p.BelowVersion > 0 && v.Version >= p.BelowVersion {
			continue
		}
		o := sandboxtoken.RevokeOutcome{Parameter: p.Name, Version: v.Version}
		if m, err := sandboxtoken.DecodeMeta(v.Description); err == nil {
			o.ExpiresAt = m.ExpiresAt
			if !m.ExpiresAt.IsZero() && !m.ExpiresAt.After(now) {
				o.TokenSHA, o.Outcome = m.TokenSHA, sandboxtoken.OutcomeExpired
				out = append(out, o)
				continue
			}
		}
		out = append(out, h.revokeValue(ctx, o, v.Value))
	}
	return out, true
}

// revokeCurrent is the fallback without a readable history: the current
// version is revoked (unless it is the one to keep), older ones are
// reported unreadable until the latest time they can expire.
func (h *Handler) revokeCurrent(ctx context.Context, p sandboxtoken.RevokeParam, m sandboxtoken.Meta, now time.Time) []sandboxtoken.RevokeOutcome {
	v, err := h.SSM.GetParameter(ctx, p.Name, true)
	if errors.Is(err, state.ErrNotFound) {
		return []sandboxtoken.RevokeOutcome{{Parameter: p.Name, Outcome: sandboxtoken.OutcomeMissing}}
	}
	if err != nil {
		return []sandboxtoken.RevokeOutcome{{Parameter: p.Name, Outcome: sandboxtoken.OutcomeFailed,
			Error: githubapp.Redact(fmt.Sprintf("reading %s: %v", p.Name, err))}}
	}
	var out []sandboxtoken.RevokeOutcome
	older := v.Version - 1
	if p.BelowVersion > 0 && v.Version >= p.BelowVersion {
		older = p.BelowVersion - 1
	} else {
		o := sandboxtoken.RevokeOutcome{Parameter: p.Name, Version: v.Version, ExpiresAt: m.ExpiresAt}
		out = append(out, h.revokeValue(ctx, o, v.Value))
	}
	if older >= 1 {
		// Every older version was written before the current one, so its
		// token expires within TokenLifetime of the current write.
		by := v.LastModified.Add(TokenLifetime).UTC()
		o := sandboxtoken.RevokeOutcome{Parameter: p.Name, FromVersion: 1, Version: older, ExpiresAt: by, Outcome: sandboxtoken.OutcomeUnreadable,
			Error: "SSM GetParameterHistory is not available on this endpoint: versions before the current one cannot be read"}
		if !by.After(now) {
			o.Outcome, o.Error = sandboxtoken.OutcomeExpired, ""
		}
		out = append(out, o)
	}
	return out
}

func (h *Handler) revokeValue(ctx context.Context, o sandboxtoken.RevokeOutcome, value string) sandboxtoken.RevokeOutcome {
	if value == "" {
		o.Outcome = sandboxtoken.OutcomeDead
		return o
	}
	o.TokenSHA = sandboxtoken.SHA(value)
	gctx, cancel := githubContext(ctx)
	defer cancel()
	dead, err := h.tokenClient(value).RevokeTokenStatus(gctx)
	switch {
	case err != nil:
		o.Outcome, o.Error = sandboxtoken.OutcomeFailed, githubapp.Redact(err.Error())
	case dead:
		o.Outcome = sandboxtoken.OutcomeDead
	default:
		o.Outcome = sandboxtoken.OutcomeRevoked
	}
	return o
}

func (h *Handler) logRevoke(ctx context.Context, sandbox string, o sandboxtoken.RevokeOutcome) {
	attrs := []slog.Attr{
		slog.String("sandbox_id", sandbox), slog.String("parameter", o.Parameter),
		slog.Int64("version", o.Version), slog.String("outcome", o.Outcome),
	}
	if o.FromVersion > 0 {
		attrs = append(attrs, slog.Int64("from_version", o.FromVersion))
	}
	if o.TokenSHA != "" {
		attrs = append(attrs, slog.String("token_sha", o.TokenSHA))
	}
	if !o.ExpiresAt.IsZero() {
		attrs = append(attrs, slog.String("expires_at", o.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("request_id", lc.AwsRequestID))
	}
	level := slog.LevelInfo
	if o.Live() {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", o.Error))
	}
	h.logger().LogAttrs(ctx, level, MsgRevoke, attrs...)
}
