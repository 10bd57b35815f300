package planapply

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
)

// lambdaRevoker is reconcile.Revoker over a synchronous (RequestResponse)
// invocation of the deployed refresher: km itself never decrypts a token.
type lambdaRevoker struct {
	aws      *state.AWS
	function string
}

func (r lambdaRevoker) Revoke(ctx context.Context, req sandboxtoken.RevokeRequest) (sandboxtoken.RevokeResult, error) {
	var res sandboxtoken.RevokeResult
	b, err := json.Marshal(req)
	if err != nil {
		return res, err
	}
	out, fnErr, err := r.aws.Invoke(ctx, r.function, b)
	if err != nil {
		return res, fmt.Errorf("invoking the refresher %s: %w", r.function, err)
	}
	if fnErr != "" {
		var e struct {
			Message string `json:"errorMessage"`
		}
		if json.Unmarshal(out, &e) != nil || e.Message == "" {
			e.Message = fnErr
		}
		return res, fmt.Errorf("the refresher %s failed: %s", r.function, githubapp.Redact(e.Message))
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("the refresher %s answered the revoke request with something other than its result (%v); deploy this km's refresher with km apply", r.function, err)
	}
	if res.SandboxID != req.SandboxID {
		return res, fmt.Errorf("the refresher %s answered for sandbox %q, not %q; deploy this km's refresher with km apply", r.function, res.SandboxID, req.SandboxID)
	}
	return res, nil
}

// Unrevoked lists the retired tokens km could not revoke that have not
// expired yet (hashes and expiries, never tokens).
func (s *Session) Unrevoked(ctx context.Context) ([]sandboxtoken.Unrevoked, error) {
	return sandboxtoken.ListUnrevoked(ctx, s.AWS, s.Names, s.now(), false)
}

func (s *Session) now() time.Time {
	if s.Env.Now != nil {
		return s.Env.Now()
	}
	return time.Now()
}

// reportUnrevoked ends an apply: it names the tokens this apply could not
// revoke, and deletes the records of tokens that expired since.
func (s *Session) reportUnrevoked(ctx context.Context) {
	if list := s.Runtime.Unrevoked(); len(list) > 0 {
		fmt.Fprintf(s.Env.Stdout, "\nWarning: %d retired token(s) could not be revoked; each stays valid until the time shown (km list and km doctor show them until then):\n", len(list))
		for _, u := range list {
			fmt.Fprintf(s.Env.Stdout, "  - %s %s (%s): until %s\n", u.Sandbox, u.Hash(), u.Parameter, u.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	if _, err := sandboxtoken.ListUnrevoked(ctx, s.AWS, s.Names, s.now(), true); err != nil {
		fmt.Fprintf(s.Env.Stderr, "Warning: %v\n", err)
	}
}
