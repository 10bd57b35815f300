package lambda

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/sandboxtoken"
)

// refresh mints, verifies and stores one owner's token. It returns the
// outcome's log event; the caller logs it.
func (h *Handler) refresh(ctx context.Context, m Minter, j job) (TokenResult, event, error) {
	fail := func(ev event, err error) (TokenResult, event, error) {
		err = fmt.Errorf("sandbox %s, owner %s (installation %d): %w; the previous token in %s stays in place",
			j.sandbox, j.owner, j.req.InstallationID, err, j.parameter)
		ev.Err = err
		return TokenResult{}, ev, err
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
	ev.ExpiresAt, ev.TokenSHA = tok.ExpiresAt, sandboxtoken.SHA(tok.Value)
	if err := githubapp.VerifyGrant(j.req, tok, now); err != nil {
		// Never stored, so nobody else could revoke it: do it now (best
		// effort; it expires within the hour anyway).
		if tok.Value != "" {
			rctx, cancel := githubContext(ctx)
			if _, rerr := h.tokenClient(tok.Value).RevokeTokenStatus(rctx); rerr != nil {
				err = fmt.Errorf("%w (revoking the unverified token %s failed too: %v)", err, ev.TokenSHA, rerr)
			}
			cancel()
		}
		return fail(ev, err)
	}
	err = sandboxtoken.Write(ctx, h.SSM, j.sandbox, sandboxtoken.Minted{
		Parameter: j.parameter, KeyAlias: j.keyAlias, Token: tok, Prefix: h.Prefix,
		Meta: sandboxtoken.Meta{
			Owner: j.owner, InstallationID: j.req.InstallationID,
			Scope:        githubapp.ScopeFingerprint(j.req.InstallationID, j.req.Repositories, j.req.Permissions),
			Repositories: ev.Repositories, Permissions: ev.Permissions,
			MintedAt: now.UTC(), MintedBy: MintedBy,
		},
	})
	if err != nil {
		return fail(ev, err)
	}
	return TokenResult{
		Owner: j.owner, InstallationID: j.req.InstallationID, Parameter: j.parameter,
		Repositories: ev.Repositories, Permissions: ev.Permissions,
		ExpiresAt: tok.ExpiresAt.UTC(), TokenSHA: ev.TokenSHA,
	}, ev, nil
}

// githubContext bounds GitHub calls so that WriteReserve remains for SSM.
func githubContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) > 2*WriteReserve {
		return context.WithDeadline(ctx, d.Add(-WriteReserve))
	}
	return context.WithCancel(ctx)
}
