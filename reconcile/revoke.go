package reconcile

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klankermaker/km/internal/sandboxtoken"
)

// Revoker asks the refresher to revoke retired tokens at GitHub: the
// refresher is the only principal besides the sandbox that may decrypt a
// token, and GitHub revokes a token only on a request authenticated by it.
// internal/planapply implements it with a synchronous Lambda invocation.
// An error means the refresher could not be asked (not deployed, not
// reachable, or it failed); the outcomes say what happened to each token.
type Revoker interface {
	Revoke(ctx context.Context, req sandboxtoken.RevokeRequest) (sandboxtoken.RevokeResult, error)
}

// tokenLifetime is how long GitHub installation tokens live: a version
// older than the current one expires at most this long after the current
// one was written.
const tokenLifetime = time.Hour

// unrevokedLog collects what one apply could not revoke.
type unrevokedLog struct {
	mu   sync.Mutex
	list []sandboxtoken.Unrevoked
}

func (l *unrevokedLog) add(u sandboxtoken.Unrevoked) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, u)
}

// Unrevoked returns the tokens the last Apply retired without revoking them
// (each was recorded in SSM and named in the apply's output).
func (rt *Runtime) Unrevoked() []sandboxtoken.Unrevoked {
	if rt.unrevoked == nil {
		return nil
	}
	rt.unrevoked.mu.Lock()
	defer rt.unrevoked.mu.Unlock()
	return append([]sandboxtoken.Unrevoked(nil), rt.unrevoked.list...)
}

func (rt *Runtime) revoke(ctx context.Context, sandbox string, params ...sandboxtoken.RevokeParam) (sandboxtoken.RevokeResult, error) {
	if rt.Revoker == nil {
		return sandboxtoken.RevokeResult{}, fmt.Errorf("no refresher to revoke through")
	}
	return rt.Revoker.Revoke(ctx, sandboxtoken.RevokeRequest{
		Action: sandboxtoken.ActionRevoke, SandboxID: sandbox, Prefix: rt.Names.Prefix, Parameters: params,
	})
}

// liveVersion is the parameter version plan read ("version=N").
func liveVersion(live *Resource) int64 {
	if live == nil {
		return 0
	}
	v, _ := strconv.ParseInt(strings.TrimPrefix(live.Fingerprint, "version="), 10, 64)
	return v
}

// retire revokes the versions p names and records what could not be
// revoked. It never fails the change: apply converges, and the record keeps
// the risk visible until the token expires.
func (rt *Runtime) retire(ctx context.Context, say func(string, ...any), c *Change, p sandboxtoken.RevokeParam) {
	res, err := rt.revoke(ctx, c.Sandbox, p)
	rt.settle(ctx, say, c, res, err)
}

// settle reports a revoke answer: revoked tokens in the progress, live ones
// recorded. err (the refresher could not be asked) records the live token
// plan read, and its older versions.
func (rt *Runtime) settle(ctx context.Context, say func(string, ...any), c *Change, res sandboxtoken.RevokeResult, err error) {
	if err != nil {
		rt.unrevokedLive(ctx, say, c, fmt.Sprintf("the refresher could not be asked to revoke it (%v)", err))
		return
	}
	for _, o := range res.Revoked {
		switch {
		case o.Live():
			reason := "GitHub did not revoke it (" + o.Error + ")"
			if o.Outcome == sandboxtoken.OutcomeUnreadable {
				reason = o.Error
			}
			rt.recordUnrevoked(ctx, say, sandboxtoken.Unrevoked{
				Sandbox: c.Sandbox, Parameter: o.Parameter, Version: o.Version, FromVersion: o.FromVersion,
				TokenSHA: o.TokenSHA, ExpiresAt: o.ExpiresAt, Reason: reason,
			})
		case o.Outcome == sandboxtoken.OutcomeRevoked:
			say("%s: revoked token %s (version %d) at GitHub", c.Address, o.TokenSHA, o.Version)
		}
	}
}

// unrevokedLive records the live token (and, when the parameter has older
// versions, those) as unrevoked: what plan read is all km knows of them.
func (rt *Runtime) unrevokedLive(ctx context.Context, say func(string, ...any), c *Change, reason string) {
	if c.live == nil {
		return
	}
	meta, ok := c.live.Extra.(sandboxtoken.Meta)
	v := liveVersion(c.live)
	if v < 1 {
		return
	}
	written := rt.now()
	if ok {
		written = meta.MintedAt
		rt.recordUnrevoked(ctx, say, sandboxtoken.Unrevoked{
			Sandbox: c.Sandbox, Parameter: c.ID, Version: v, TokenSHA: meta.TokenSHA, ExpiresAt: meta.ExpiresAt, Reason: reason,
		})
		v--
	}
	if v >= 1 {
		rt.recordUnrevoked(ctx, say, sandboxtoken.Unrevoked{
			Sandbox: c.Sandbox, Parameter: c.ID, FromVersion: 1, Version: v, ExpiresAt: written.Add(tokenLifetime).UTC(), Reason: reason,
		})
	}
}

func (rt *Runtime) recordUnrevoked(ctx context.Context, say func(string, ...any), u sandboxtoken.Unrevoked) {
	if !u.ExpiresAt.After(rt.now()) {
		return // expired: nothing left to revoke
	}
	u.RecordedAt = rt.now().UTC()
	if rt.unrevoked != nil {
		rt.unrevoked.add(u)
	}
	say("Warning: %s", u)
	if err := sandboxtoken.RecordUnrevoked(ctx, rt.AWS, rt.Names, u); err != nil {
		say("Warning: %v", err)
	}
}
