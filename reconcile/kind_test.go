package reconcile

import (
	"slices"
	"testing"
)

// TestKindDependenciesCoverResources: every dependency a desired resource
// names is of a type its kind declares in DependsOn, so the delete order
// derived from the kinds (deleteRanks) is the reverse of the resources' order.
func TestKindDependenciesCoverResources(t *testing.T) {
	e := newSavedPlanEnv(t, "kmdeps", "sb-deps-a")
	desired, err := Desired(e.config(), e.rt)
	if err != nil {
		t.Fatal(err)
	}
	typeOf := map[string]string{}
	for _, d := range desired {
		typeOf[d.Address] = d.Type
	}
	seen := map[string]bool{}
	for _, d := range desired {
		seen[d.Type] = true
		for _, dep := range d.DependsOn {
			if typ, ok := typeOf[dep]; !ok || !slices.Contains(kindOf(d.Type).DependsOn(), typ) {
				t.Errorf("%s depends on %s (type %q), which %s's DependsOn %v does not name", d.Address, dep, typ, d.Type, kindOf(d.Type).DependsOn())
			}
		}
	}
	for _, k := range kinds() {
		if !seen[k.Type()] {
			t.Errorf("the declaration built no %s: this test does not cover it", k.Type())
		}
	}
}

// TestDeleteRanks: dependents are deleted first (a sandbox's schedule, its
// tokens, its alias, then its key), and the kinds have no dependency cycle.
func TestDeleteRanks(t *testing.T) {
	rank := deleteRanks(kinds())
	order := []string{TypeSchedule, TypeToken, TypeAlias, TypeKey}
	for i := 1; i < len(order); i++ {
		if rank[order[i-1]] >= rank[order[i]] {
			t.Errorf("rank %s=%d must be below %s=%d", order[i-1], rank[order[i-1]], order[i], rank[order[i]])
		}
	}
	for _, k := range kinds() {
		if rank[k.Type()] >= len(kinds()) {
			t.Errorf("%s has rank %d: the kinds' dependencies have a cycle", k.Type(), rank[k.Type()])
		}
		for _, dep := range k.DependsOn() {
			if kindOf(dep) == nil {
				t.Errorf("%s depends on %q, which no kind registers", k.Type(), dep)
			}
			if rank[dep] <= rank[k.Type()] {
				t.Errorf("%s (rank %d) must be deleted before %s (rank %d)", k.Type(), rank[k.Type()], dep, rank[dep])
			}
		}
	}
}
