package planapply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/state"
)

// One token GitHub refuses fails its change and what depends on it (the
// schedule); every other sandbox is applied. The apply ends with the summary
// (what failed, why, what was not attempted, the fix), and the next apply
// converges.
func TestFailedApplySummary(t *testing.T) {
	f := newFixture(t, "kmsum", []string{"sb-sum1", "sb-sum2", "sb-sum3"})
	f.Sim.FailNext("POST", "/app/installations/", 422)
	err := f.Session().PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true, Parallelism: 1})
	out := f.Out.String()
	if err == nil {
		t.Fatalf("apply succeeded despite GitHub refusing a token:\n%s", out)
	}
	i := strings.Index(out, "\nApply failed.")
	if i < 0 {
		t.Fatalf("no summary:\n%s", out)
	}
	sum := out[i:]
	for _, want := range []string{"1 failed", "not attempted", "Failed:\n  - sandbox[\"", "km_github_token[", "(GitHub)", "Fix:\n  - GitHub:", "km apply finishes the rest"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	t.Logf("the summary:%s", sum)
	// The other sandboxes' tokens were written.
	written := 0
	for _, id := range []string{f.ID("sb-sum1"), f.ID("sb-sum2"), f.ID("sb-sum3")} {
		if _, err := f.AWS.GetParameter(context.Background(), "/sandbox/"+id+"/github-token", false); err == nil {
			written++
		} else if !strings.Contains(err.Error(), "not") {
			t.Fatal(err)
		}
	}
	if written < 2 {
		t.Errorf("%d of 3 sandboxes' first tokens written: one failure stopped independent work", written)
	}
	f.Out.Reset()
	f.Apply()
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after the second apply: %v", fleettest.Actions(p))
	}
	_ = state.ErrNotFound
}
