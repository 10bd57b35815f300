package reconcile

import (
	"fmt"
	"sort"
	"strings"
)

// MassDestroy describes a plan that destroys sandboxes: which, out of how many
// live ones, and the share km.yaml's safety.maxDestroyPercent allows.
type MassDestroy struct {
	Sandboxes  []string // destroyed sandboxes, sorted
	Live       int      // live sandboxes before the apply
	MaxPercent int
}

// Exceeded reports whether the plan destroys more than MaxPercent of the live
// sandboxes.
func (m MassDestroy) Exceeded() bool {
	return len(m.Sandboxes) > 0 && len(m.Sandboxes)*100 > m.MaxPercent*m.Live
}

// DestroyedSandboxes returns the sandboxes the plan removes: those with a
// delete change that the declaration no longer lists. A leaked key (one no
// alias names) is not a sandbox.
func DestroyedSandboxes(p *Plan, declared func(id string) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.Changes {
		if c.Sandbox == "" || c.Action != Delete || seen[c.Sandbox] || declared(c.Sandbox) || isLeakedKeyAddr(c.Address) {
			continue
		}
		seen[c.Sandbox] = true
		out = append(out, c.Sandbox)
	}
	sort.Strings(out)
	return out
}

// CheckMassDestroy measures how many sandboxes the plan destroys out of the
// live ones (the sandboxes of live, plus the destroyed ones).
func CheckMassDestroy(p *Plan, declared func(id string) bool, live []string, maxPercent int) MassDestroy {
	m := MassDestroy{Sandboxes: DestroyedSandboxes(p, declared), MaxPercent: maxPercent}
	all := map[string]bool{}
	for _, id := range live {
		if id != "" {
			all[id] = true
		}
	}
	for _, id := range m.Sandboxes {
		all[id] = true
	}
	m.Live = len(all)
	return m
}

// LiveSandboxes lists the sandboxes that have a live resource.
func (pl *Planned) LiveSandboxes() []string {
	var out []string
	for _, l := range pl.Live {
		if !isLeakedKeyAddr(l.Address) {
			out = append(out, l.Sandbox)
		}
	}
	return out
}

// ErrMassDestroy is wrapped by the error of an apply refused by the guard.
var ErrMassDestroy = fmt.Errorf("the plan destroys more sandboxes than safety.maxDestroyPercent allows")

// Allow checks the count given with --allow-destroy (0 when absent) against
// the plan. It returns nil when the threshold is not exceeded or allow names
// the exact count; else an error listing the sandboxes and the fix.
func (m MassDestroy) Allow(allow int) error {
	if !m.Exceeded() || allow == len(m.Sandboxes) {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v: it destroys %d of %d live sandboxes (%d%%; the limit is %d%%):\n",
		ErrMassDestroy, len(m.Sandboxes), m.Live, len(m.Sandboxes)*100/max(m.Live, 1), m.MaxPercent)
	for _, id := range m.Sandboxes {
		fmt.Fprintf(&b, "  - %s\n", id)
	}
	if allow > 0 {
		fmt.Fprintf(&b, "--allow-destroy %d does not match: ", allow)
	}
	fmt.Fprintf(&b, "if km.yaml is complete and these sandboxes are meant to go, run again with --allow-destroy %d "+
		"(also needed with --auto-approve); if km.yaml is empty or truncated, restore it; "+
		"to remove one sandbox use km destroy ID", len(m.Sandboxes))
	return &massDestroyError{msg: b.String()}
}

type massDestroyError struct{ msg string }

func (e *massDestroyError) Error() string { return e.msg }
func (e *massDestroyError) Unwrap() error { return ErrMassDestroy }

// Warning is the plan warning of an exceeded threshold (km plan shows it).
func (m MassDestroy) Warning() string {
	return fmt.Sprintf("This plan destroys %d of %d live sandboxes (%s), more than safety.maxDestroyPercent (%d%%) allows: "+
		"km apply will need --allow-destroy %d.", len(m.Sandboxes), m.Live, strings.Join(m.Sandboxes, ", "), m.MaxPercent, len(m.Sandboxes))
}
