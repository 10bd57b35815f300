package workflow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/reconcile"
)

// SavePlan writes a plan file (no secrets: tokens are minted at apply time).
func SavePlan(path string, p *reconcile.Plan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return profiles.WriteFileAtomic(path, b, 0o600)
}

// ApplyPlanFile applies a saved plan (preliminary: see issue 4 for stale checks).
func (s *Session) ApplyPlanFile(ctx context.Context, path string, o ApplyOptions) error {
	return fmt.Errorf("applying a saved plan file is not implemented yet")
}
