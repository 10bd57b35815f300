package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/klankermaker/km/profiles"
)

// ErrStalePlan is wrapped by every error that refuses a saved plan because the
// declaration or the live state moved since it was made.
var ErrStalePlan = errors.New("the plan is stale")

// Conflict is one reason a saved plan no longer holds.
type Conflict struct {
	Address string
	Problem string
}

// StaleError refuses a saved plan: it names every resource that moved since the
// plan and what changed. Nothing was written when it is returned.
type StaleError struct {
	PlanID    string
	Conflicts []Conflict
}

func (e *StaleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the plan %s is stale: %d resource(s) no longer match it, so nothing was written:\n", e.PlanID, len(e.Conflicts))
	for _, c := range e.Conflicts {
		fmt.Fprintf(&b, "  - %s: %s\n", c.Address, c.Problem)
	}
	b.WriteString("Run km plan again, review the new plan, and apply that one.")
	return b.String()
}

// Unwrap makes errors.Is(err, ErrStalePlan) true.
func (e *StaleError) Unwrap() error { return ErrStalePlan }

// PrepareSavedPlan checks a plan file against the declaration and against the
// live state of the resources it touches, and returns it ready for Apply with
// exactly its change set. It refuses (wrapping ErrStalePlan) when the
// declaration changed, when a touched resource's live fingerprint differs from
// the change's Precondition, or when this km would now write something other
// than the plan shows (another km version, other KM_* settings). It writes
// nothing.
//
// Only the touched resources, and those whose attributes they reference, are
// read: per resource for roles, the log group, the function, the schedule
// group, schedules and KMS keys and aliases; the App configuration parameters
// and the token parameters are read in bulk as plan reads them (one listing
// each).
func PrepareSavedPlan(ctx context.Context, cfg *profiles.Config, rt *Runtime, f *PlanFile) (*Planned, error) {
	if err := CheckDeclaration(cfg, f); err != nil {
		return nil, err
	}
	switch {
	case f.Prefix != rt.Names.Prefix:
		return nil, fmt.Errorf("plan %s is for prefix %q, the declaration uses %q", f.PlanID, f.Prefix, rt.Names.Prefix)
	case f.Region != rt.Region:
		return nil, fmt.Errorf("plan %s was made in region %s, this run is in %s; set AWS_REGION or region in km.yaml to match", f.PlanID, f.Region, rt.Region)
	case f.Account != "" && f.Account != rt.Account:
		return nil, fmt.Errorf("plan %s was made in AWS account %s, these credentials are for account %s", f.PlanID, f.Account, rt.Account)
	}
	desired, err := Desired(cfg, rt)
	if err != nil {
		return nil, err
	}
	desiredBy := map[string]*Resource{}
	for _, d := range desired {
		desiredBy[d.Address] = d
	}
	planned := map[string]Action{}
	for _, c := range f.Changes {
		planned[c.Address] = c.Action
	}
	need := map[string]string{} // address -> type
	for _, c := range f.Changes {
		need[c.Address] = c.Type
		if d := desiredBy[c.Address]; d != nil && c.Action != Delete {
			for _, v := range d.Attrs {
				for _, m := range refRE.FindAllStringSubmatch(v, -1) {
					if r := desiredBy[m[1]]; r != nil {
						need[r.Address] = r.Type
					}
				}
			}
		}
	}
	rt.memo = memo{}
	rt.sandboxIDs = desiredSandboxIDs(desired)
	rt.planned = planned
	live, err := readTouched(ctx, rt, desiredBy, need)
	if err != nil {
		return nil, err
	}

	var conflicts []Conflict
	for i := range f.Changes {
		c := &f.Changes[i]
		if p := liveConflict(c, live[c.Address]); p != "" {
			conflicts = append(conflicts, Conflict{Address: c.Address, Problem: p})
			continue
		}
		if c.Action == Delete {
			continue
		}
		d := desiredBy[c.Address]
		if d == nil {
			conflicts = append(conflicts, Conflict{Address: c.Address, Problem: "is no longer in the declaration"})
			continue
		}
		resolved, _ := resolveRefs(d, live, planned)
		if p := afterConflict(c, sealSensitive(c, resolved.Attrs)); p != "" {
			conflicts = append(conflicts, Conflict{Address: c.Address, Problem: p})
		}
	}
	if len(conflicts) > 0 {
		return nil, &StaleError{PlanID: f.PlanID, Conflicts: conflicts}
	}
	return &Planned{Plan: f.Plan(), Desired: desiredBy, Live: live}, nil
}

// CheckDeclaration refuses (wrapping ErrStalePlan) a plan made from another
// declaration than cfg: km.yaml, a used profile or the App key changed.
func CheckDeclaration(cfg *profiles.Config, f *PlanFile) error {
	if f.DeclarationHash == cfg.Hash {
		return nil
	}
	return fmt.Errorf("%w: the declaration changed since the plan (plan %s was made from declaration %.12s, %s and its profiles now hash to %.12s); run km plan again",
		ErrStalePlan, f.PlanID, f.DeclarationHash, cfg.Path, cfg.Hash)
}

// liveConflict compares a change's precondition with the resource as it is now.
func liveConflict(c *Change, now *Resource) string {
	switch {
	case c.Precondition == "" && now != nil:
		return fmt.Sprintf("was created since the plan (now %s)", now.Fingerprint)
	case c.Precondition == "":
		return ""
	case now == nil:
		return "was deleted since the plan"
	case now.Fingerprint == c.Precondition:
		return ""
	}
	nowAttrs := sealSensitive(c, now.Attrs)
	if c.Type == TypeToken && sameAttrsExcept(c.Before, nowAttrs, "expires_at", "value") {
		// The refresher re-minted the token with the same scope and key: the
		// planned change still means the same thing.
		return ""
	}
	what := "changed"
	if names := differingAttrs(c.Before, nowAttrs); len(names) > 0 {
		what = strings.Join(names, ", ") + " changed"
	}
	return fmt.Sprintf("%s since the plan (planned against %s, now %s)", what, c.Precondition, now.Fingerprint)
}

// afterConflict compares what the plan said it would write with what this km
// would write now.
func afterConflict(c *Change, now map[string]string) string {
	var diffs []string
	for _, k := range differingAttrs(c.After, now) {
		was, is := c.After[k], now[k]
		if c.IsSensitive(k) || len(was)+len(is) > 120 || strings.Contains(was+is, "\n") {
			diffs = append(diffs, k)
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s %q (the plan has %q)", k, is, was))
	}
	if len(diffs) == 0 {
		return ""
	}
	return "this km would now write a different " + strings.Join(diffs, ", ") +
		"; was the plan made by another km version, or with other KM_* settings or AWS endpoint?"
}

// differingAttrs lists the attributes whose values differ, sorted.
func differingAttrs(a, b map[string]string) []string {
	var out []string
	for _, k := range (&Change{Before: a, After: b}).AttrNames() {
		if !EqualAttr(a[k], b[k]) {
			out = append(out, k)
		}
	}
	return out
}

func sameAttrsExcept(a, b map[string]string, skip ...string) bool {
	for _, k := range differingAttrs(a, b) {
		if !slices.Contains(skip, k) {
			return false
		}
	}
	return true
}

// readTouched reads the live state of the resources in need (address -> type):
// each kind reads its own.
func readTouched(ctx context.Context, rt *Runtime, desiredBy map[string]*Resource, need map[string]string) (map[string]*Resource, error) {
	live := map[string]*Resource{}
	for _, k := range rt.kinds() {
		rs, err := k.ReadTouched(ctx, rt, need, desiredBy)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if _, ok := need[addrOf(r)]; ok {
				live[r.Address] = r
			}
		}
	}
	return live, nil
}
