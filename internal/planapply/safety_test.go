package planapply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/profiles/kmyaml"
	"github.com/klankermaker/km/reconcile"
)

// An emptied-out declaration cannot destroy the fleet by accident: apply (also
// a saved plan, also under --auto-approve) refuses until --allow-destroy names
// the exact count, and writes nothing when it refuses.
func TestMassDestroyNeedsAllowDestroy(t *testing.T) {
	ids := []string{"sb-mass1", "sb-mass2", "sb-mass3", "sb-mass4", "sb-mass5"}
	f := newFixture(t, "kmmass", ids)
	ids = f.IDs(ids)
	f.Apply()
	ctx := context.Background()
	n := names.New(f.Prefix)
	for _, id := range ids[2:] {
		if _, err := kmyaml.RemoveSandbox(f.Written.ConfigPath, id); err != nil {
			t.Fatal(err)
		}
	}
	planPath := filepath.Join(f.Dir, "mass.plan")
	s := f.Session()
	if _, err := s.PlanCommand(ctx, planapply.PlanOptions{OutFile: planPath}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Out.String(), "destroys 3 of 5 live sandboxes ("+f.ID("sb-mass3")+", "+f.ID("sb-mass4")+", "+f.ID("sb-mass5")+")") {
		t.Fatalf("plan does not warn:\n%s", f.Out.String())
	}

	for _, tc := range []struct {
		name  string
		allow int
		file  bool
	}{
		{"auto-approve", 0, false},
		{"wrong count", 2, false},
		{"saved plan", 0, true},
		{"saved plan, wrong count", 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := planapply.ApplyOptions{AutoApprove: true, PlanOptions: planapply.PlanOptions{AllowDestroy: tc.allow}}
			var err error
			if tc.file {
				err = f.Session().ApplyPlanFile(ctx, planPath, o)
			} else {
				err = f.Session().PlanAndApply(ctx, o)
			}
			if !errors.Is(err, reconcile.ErrMassDestroy) || !strings.Contains(err.Error(), "--allow-destroy 3") {
				t.Fatalf("apply: %v", err)
			}
			for _, id := range ids {
				if _, err := f.AWS.DescribeKey(ctx, n.KeyAlias(id)); err != nil {
					t.Fatalf("%s touched by a refused apply: %v", id, err)
				}
			}
		})
	}
	// The saved plan, not used up by the refusals, goes through with the count.
	o := planapply.ApplyOptions{AutoApprove: true, PlanOptions: planapply.PlanOptions{AllowDestroy: 3}}
	if err := f.Session().ApplyPlanFile(ctx, planPath, o); err != nil {
		t.Fatalf("apply FILE --allow-destroy 3: %v\n%s", err, f.Out.String())
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after the allowed destroy: %v", fleettest.Actions(p))
	}
	if k, _ := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-mass1"))); k.State != "Enabled" {
		t.Fatalf("kept sandbox's key: %+v", k)
	}
	_ = os.Remove(planPath)
}
