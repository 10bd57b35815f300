package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/state"
)

// ErrPlanApplied is wrapped when a plan file was applied before (or an apply of
// it started): a plan file is applied at most once.
var ErrPlanApplied = errors.New("the plan was already applied")

// AppliedPlanParam is the SSM String parameter recording an apply of plan id:
// /{prefix}/state/applied-plans/{id}.
func AppliedPlanParam(n names.Names, id string) string {
	return "/" + n.Prefix + "/state/applied-plans/" + id
}

// AppliedRecord is what the applied-plan parameter holds (JSON).
type AppliedRecord struct {
	PlanID          string    `json:"plan_id"`
	DeclarationHash string    `json:"declaration_hash"`
	PlanCreatedAt   time.Time `json:"plan_created_at"`
	StartedAt       time.Time `json:"started_at"`
	Status          string    `json:"status"` // applying, applied, failed
	FinishedAt      time.Time `json:"finished_at,omitzero"`
	Added           int       `json:"added"`
	Changed         int       `json:"changed"`
	Destroyed       int       `json:"destroyed"`
	Failed          []string  `json:"failed,omitempty"`
}

// CheckNotApplied returns an error wrapping ErrPlanApplied when plan f was
// applied before (its record exists).
func CheckNotApplied(ctx context.Context, rt *Runtime, f *PlanFile) error {
	name := AppliedPlanParam(rt.Names, f.PlanID)
	p, err := rt.AWS.GetParameter(ctx, name, false)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking whether plan %s was applied (SSM %s): %w", f.PlanID, name, err)
	}
	return appliedError(f.PlanID, name, p.Value)
}

func appliedError(id, name, value string) error {
	var rec AppliedRecord
	when := ""
	if json.Unmarshal([]byte(value), &rec) == nil && !rec.StartedAt.IsZero() {
		when = fmt.Sprintf(" on %s (%s)", rec.StartedAt.UTC().Format(time.RFC3339), rec.Status)
	}
	return fmt.Errorf("%w: plan %s was applied%s (recorded in SSM %s); a plan file can be applied only once: run km plan again",
		ErrPlanApplied, id, when, name)
}

// ClaimPlan records that an apply of plan f starts. The parameter is created
// with Overwrite=false, so exactly one apply of a plan succeeds in claiming it;
// the others get an error wrapping ErrPlanApplied.
func ClaimPlan(ctx context.Context, rt *Runtime, f *PlanFile) error {
	rec := AppliedRecord{
		PlanID: f.PlanID, DeclarationHash: f.DeclarationHash, PlanCreatedAt: f.CreatedAt,
		StartedAt: rt.now().UTC(), Status: "applying",
	}
	name := AppliedPlanParam(rt.Names, f.PlanID)
	_, err := rt.AWS.PutParameter(ctx, state.PutParameterInput{
		Name: name, Type: "String", Value: mustJSONCompact(rec),
		Description: "km: plan file applied (do not delete while the plan file exists)", Tags: rt.tags(""),
	})
	if isExists(err) {
		return appliedError(f.PlanID, name, "")
	}
	if err != nil {
		return fmt.Errorf("recording the apply of plan %s in SSM %s: %w", f.PlanID, name, err)
	}
	return nil
}

// RecordApplied stores the outcome of the apply of plan f in its record.
func RecordApplied(ctx context.Context, rt *Runtime, f *PlanFile, res ApplyResult, applyErr error) error {
	name := AppliedPlanParam(rt.Names, f.PlanID)
	rec := AppliedRecord{
		PlanID: f.PlanID, DeclarationHash: f.DeclarationHash, PlanCreatedAt: f.CreatedAt,
		Status: "applied", FinishedAt: rt.now().UTC(),
		Added: res.Added, Changed: res.Changed, Destroyed: res.Destroyed, Failed: res.Failed,
	}
	if old, err := rt.AWS.GetParameter(ctx, name, false); err == nil {
		var prev AppliedRecord
		if json.Unmarshal([]byte(old.Value), &prev) == nil {
			rec.StartedAt = prev.StartedAt
		}
	}
	if applyErr != nil {
		rec.Status = "failed"
	}
	if _, err := rt.AWS.PutParameter(ctx, state.PutParameterInput{
		Name: name, Type: "String", Value: mustJSONCompact(rec), Overwrite: true,
		Description: "km: plan file applied (do not delete while the plan file exists)",
	}); err != nil {
		return fmt.Errorf("recording the outcome of plan %s in SSM %s: %w", f.PlanID, name, err)
	}
	return nil
}

func mustJSONCompact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain data only
	}
	return string(b)
}
