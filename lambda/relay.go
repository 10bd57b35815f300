package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
)

// The relay keeps a refresh going through a GitHub outage.
//
// EventBridge Scheduler invokes a Lambda function asynchronously, so an
// invocation that returns an error is retried by Lambda itself (twice, about
// one and then two minutes later), not by the schedule's retry policy, which
// only covers deliveries that fail. Tokens live 60 minutes and a schedule
// fires every 45, so an outage that starts at a fire and outlasts Lambda's
// retries would let the previous token expire before the next fire.
//
// So when every failure of an invocation is GitHub being unavailable (5xx,
// 429, rate limits, network errors, timeouts) and the stored token is due
// (it expires within RelayBelow, or cannot be read), the invocation hands the
// failed owners on to a new asynchronous invocation of this same function and
// returns success; the next link retries for its own 60 seconds, and so on
// until a token is minted or RelayWindow has passed since the first link.
// A failure of any other kind (401, 403, 404, 422, a scope mismatch, SSM)
// is never relayed: it fails the invocation at once.
const (
	// RelayBelow: a transient failure starts a relay only when the stored
	// token expires within this much time (at a regular fire it has 15
	// minutes left; right after km apply it has 60).
	RelayBelow = 30 * time.Minute
	// RelayWindow bounds a relay: it stops handing on this long after its
	// first link (less than the 45-minute schedule, so relays of successive
	// fires do not overlap).
	RelayWindow = 40 * time.Minute
	// MaxRelayLinks bounds a relay by count as well: a link lasts up to the
	// function's 60 s timeout, so 40 minutes take about 40 links. km apply
	// sets the function's recursive loop detection to Allow (Lambda would
	// otherwise stop the chain after 16 invocations); this is the guard rail
	// that setting asks for.
	MaxRelayLinks = 48
)

// Invoker starts an asynchronous invocation (InvocationType Event) of a
// Lambda function; *state.AWS implements it.
type Invoker interface {
	InvokeAsync(ctx context.Context, function string, payload []byte) error
}

// transient reports whether err means GitHub was unavailable rather than
// that the request itself was refused.
func transient(err error) bool {
	if errors.Is(err, githubapp.ErrServer) || errors.Is(err, githubapp.ErrRateLimited) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// relayUntil decides whether the failed jobs are handed on, and until when
// (zero: they are not).
func (h *Handler) relayUntil(ctx context.Context, p sandboxtoken.Payload, failed []job, errs []error) time.Time {
	if h.Invoker == nil || len(failed) == 0 {
		return time.Time{}
	}
	for _, err := range errs {
		if !transient(err) {
			return time.Time{}
		}
	}
	now := h.now()
	until := now.Add(RelayWindow)
	if p.Relay != nil {
		if p.Relay.Link >= MaxRelayLinks {
			return time.Time{}
		}
		until = p.Relay.Until
	} else if !h.due(ctx, p.SandboxID, failed, now) {
		return time.Time{}
	}
	if !now.Before(until) {
		return time.Time{}
	}
	return until
}

// due reports whether any failed job's stored token expires within
// RelayBelow. The expiry is the one km wrote in the parameter's
// description; a parameter without km's metadata is taken to expire an hour
// (an installation token's lifetime) after it was last written. A token that
// is missing or cannot be looked up is due.
func (h *Handler) due(ctx context.Context, sandboxID string, failed []job, now time.Time) bool {
	params, err := h.SSM.DescribeParameters(ctx, sandboxtoken.SandboxFolder(sandboxID))
	if err != nil {
		return true
	}
	byName := make(map[string]state.Parameter, len(params))
	for _, prm := range params {
		byName[prm.Name] = prm
	}
	for _, j := range failed {
		prm, ok := byName[j.parameter]
		if !ok {
			return true
		}
		expires := prm.LastModified.Add(time.Hour)
		if m, err := sandboxtoken.DecodeMeta(prm.Description); err == nil {
			expires = m.ExpiresAt
		}
		if expires.Sub(now) < RelayBelow {
			return true
		}
	}
	return false
}

// handOn invokes the function again, asynchronously, for the failed owners.
func (h *Handler) handOn(ctx context.Context, p sandboxtoken.Payload, failed []job, until time.Time) (*sandboxtoken.Relay, error) {
	next := p
	next.Owners = make([]sandboxtoken.Owner, 0, len(failed))
	for _, j := range failed {
		o := p.Owners[j.index]
		o.Parameter = j.parameter // the name depends on the owner's position in the full payload
		next.Owners = append(next.Owners, o)
	}
	link := 1
	if p.Relay != nil {
		link = p.Relay.Link + 1
	}
	next.Relay = &sandboxtoken.Relay{Link: link, Until: until.UTC()}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, err
	}
	fn := h.Function
	if fn == "" {
		fn = names.New(h.Prefix).Function()
	}
	if err := h.Invoker.InvokeAsync(ctx, fn, b); err != nil {
		return nil, fmt.Errorf("handing the refresh on to %s: %w", fn, err)
	}
	return next.Relay, nil
}
