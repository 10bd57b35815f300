package reconcile

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/klankermaker/km/profiles"
)

// FormatVersion is the version of the plan's data format (JSON and plan files).
const FormatVersion = "1.0"

// PlanOptions narrow a plan.
type PlanOptions struct {
	// Targets limits the plan to these addresses (and what they depend on).
	Targets []string
	// Sandboxes limits the plan to these sandboxes' resources plus the shared
	// resources they need (km create).
	Only func(addr string) bool
}

// Planned is a plan together with what it was computed from, ready to apply.
type Planned struct {
	Plan    *Plan
	Desired map[string]*Resource
	Live    map[string]*Resource
}

// MakePlan reads live state and diffs it against the declaration.
func MakePlan(ctx context.Context, cfg *profiles.Config, rt *Runtime, opts PlanOptions) (*Planned, error) {
	desired, err := Desired(cfg, rt)
	if err != nil {
		return nil, err
	}
	return planFrom(ctx, rt, desired, cfg.Hash, opts)
}

func planFrom(ctx context.Context, rt *Runtime, desired []*Resource, hash string, opts PlanOptions) (*Planned, error) {
	rt.memo = memo{}
	rt.sandboxIDs = desiredSandboxIDs(desired)
	rt.planned = map[string]Action{}

	byType := map[string][]*Resource{}
	desiredBy := map[string]*Resource{}
	for _, d := range desired {
		byType[d.Type] = append(byType[d.Type], d)
		desiredBy[d.Address] = d
	}
	liveBy := map[string]*Resource{}
	for _, k := range rt.kinds() {
		live, err := k.Read(ctx, rt, byType[k.Type()])
		if err != nil {
			return nil, err
		}
		for _, l := range live {
			liveBy[l.Address] = l
		}
	}

	order, err := topoOrder(desired)
	if err != nil {
		return nil, err
	}
	plan := &Plan{FormatVersion: FormatVersion, DeclarationHash: hash, Prefix: rt.Names.Prefix, Region: rt.Region, Targets: opts.Targets}
	for _, d := range order {
		live := liveBy[d.Address]
		resolved, pending := resolveRefs(d, liveBy, rt.planned)
		k := rt.kindOf(d.Type)
		act, why := k.Diff(rt, resolved, live)
		if act == NoOp && live != nil && len(pending) > 0 {
			act, why = Update, "depends on "+strings.Join(pending, ", ")+", which will change"
		}
		rt.planned[d.Address] = act
		plan.Changes = append(plan.Changes, newChange(d, resolved, live, act, why))
	}
	// Live resources nothing declares: orphans in km's namespace.
	var orphans []*Resource
	for addr, l := range liveBy {
		if desiredBy[addr] == nil {
			orphans = append(orphans, l)
		}
	}
	rank := deleteRanks(rt.kinds())
	sort.Slice(orphans, func(i, j int) bool {
		if orphans[i].Sandbox != orphans[j].Sandbox {
			return orphans[i].Sandbox < orphans[j].Sandbox
		}
		if rank[orphans[i].Type] != rank[orphans[j].Type] {
			return rank[orphans[i].Type] < rank[orphans[j].Type]
		}
		return orphans[i].Address < orphans[j].Address
	})
	for _, l := range orphans {
		act, why := rt.kindOf(l.Type).Diff(rt, nil, l)
		if act == NoOp {
			continue
		}
		c := newChange(nil, nil, l, act, why)
		// Deletions run dependents first (deleteRanks): schedule, token, alias, then key.
		for _, o := range orphans {
			if o.Sandbox == l.Sandbox && rank[o.Type] < rank[l.Type] {
				c.DependsOn = append(c.DependsOn, o.Address)
			}
		}
		plan.Changes = append(plan.Changes, c)
	}
	if len(opts.Targets) > 0 || opts.Only != nil {
		filterPlan(plan, opts)
	}
	// Keep only real changes in the plan; the rest is listed as unchanged
	// (the JSON plan shows it as Terraform's no-op entries).
	kept := plan.Changes[:0]
	for _, c := range plan.Changes {
		if c.Action != NoOp {
			kept = append(kept, c)
		} else {
			plan.Unchanged = append(plan.Unchanged, c)
		}
	}
	plan.Changes = kept
	return &Planned{Plan: plan, Desired: desiredBy, Live: liveBy}, nil
}

func newChange(d, resolved, live *Resource, act Action, why string) Change {
	c := Change{Action: act, Reason: why, desired: resolved, live: live}
	src := d
	if src == nil {
		src = live
	}
	c.Address, c.Type, c.Sandbox, c.DependsOn = src.Address, src.Type, src.Sandbox, append([]string(nil), src.DependsOn...)
	c.ID = src.ID
	if live != nil {
		c.ID = live.ID
		if act != Create {
			c.Before = live.Attrs
		}
		c.Precondition = live.Fingerprint
	}
	if resolved != nil && act != Delete {
		c.After = resolved.Attrs
		if c.ID == "" {
			c.ID = resolved.ID
		}
	}
	sens := map[string]bool{}
	for _, r := range []*Resource{d, live} {
		if r != nil {
			for k := range r.Sensitive {
				sens[k] = true
			}
		}
	}
	for k := range sens {
		c.Sensitive = append(c.Sensitive, k)
	}
	sort.Strings(c.Sensitive)
	return c
}

var refRE = regexp.MustCompile(`\$\{([^}]+)\.([a-z_]+)\}`)

// resolveRefs substitutes ${address.attr} references with known values: from what
// was just applied (known) or live state. A reference to a resource that will be
// created or replaced stays unknown; pending lists those addresses.
func resolveRefs(d *Resource, live map[string]*Resource, planned map[string]Action) (*Resource, []string) {
	out := *d
	out.Attrs = make(map[string]string, len(d.Attrs))
	var pending []string
	for k, v := range d.Attrs {
		unknown := false
		nv := refRE.ReplaceAllStringFunc(v, func(m string) string {
			sub := refRE.FindStringSubmatch(m)
			addr, attr := sub[1], sub[2]
			act := planned[addr]
			l := live[addr]
			if l == nil || act == Create || act == Replace || l.Attrs[attr] == "" {
				unknown = true
				if l != nil {
					pending = append(pending, addr)
				}
				return m
			}
			return l.Attrs[attr]
		})
		if unknown {
			nv = Unknown
		}
		out.Attrs[k] = nv
	}
	return &out, dedupe(pending)
}

// resolveKnown substitutes references from a flat map of known values at apply.
func resolveKnown(attrs map[string]string, known func(addr, attr string) (string, bool)) (map[string]string, error) {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		var missing string
		out[k] = refRE.ReplaceAllStringFunc(v, func(m string) string {
			sub := refRE.FindStringSubmatch(m)
			val, ok := known(sub[1], sub[2])
			if !ok {
				missing = sub[1] + "." + sub[2]
				return m
			}
			return val
		})
		if missing != "" {
			return nil, fmt.Errorf("attribute %s needs %s, which is not known", k, missing)
		}
	}
	return out, nil
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// topoOrder orders resources so each comes after what it depends on; ties keep
// a stable order by sandbox, type rank and address.
func topoOrder(rs []*Resource) ([]*Resource, error) {
	by := map[string]*Resource{}
	for _, r := range rs {
		by[r.Address] = r
	}
	sorted := append([]*Resource(nil), rs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Sandbox != b.Sandbox {
			return a.Sandbox < b.Sandbox
		}
		return a.Address < b.Address
	})
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var out []*Resource
	var visit func(r *Resource) error
	visit = func(r *Resource) error {
		switch state[r.Address] {
		case 1:
			return fmt.Errorf("dependency cycle at %s", r.Address)
		case 2:
			return nil
		}
		state[r.Address] = 1
		for _, dep := range r.DependsOn {
			if d := by[dep]; d != nil {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[r.Address] = 2
		out = append(out, r)
		return nil
	}
	for _, r := range sorted {
		if err := visit(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// filterPlan keeps the targeted changes and the changes they depend on.
func filterPlan(p *Plan, opts PlanOptions) {
	by := map[string]*Change{}
	for i := range p.Changes {
		by[p.Changes[i].Address] = &p.Changes[i]
	}
	keep := map[string]bool{}
	var mark func(addr string)
	mark = func(addr string) {
		if keep[addr] {
			return
		}
		keep[addr] = true
		if c := by[addr]; c != nil {
			for _, d := range c.DependsOn {
				mark(d)
			}
		}
	}
	for _, c := range p.Changes {
		hit := opts.Only != nil && opts.Only(c.Address)
		for _, t := range opts.Targets {
			if matchesTarget(c.Address, t) {
				hit = true
			}
		}
		if hit {
			mark(c.Address)
		}
	}
	kept := p.Changes[:0]
	for _, c := range p.Changes {
		if keep[c.Address] {
			kept = append(kept, c)
		}
	}
	p.Changes = kept
	if len(opts.Targets) > 0 {
		p.Warnings = append(p.Warnings, "Resource targeting is in effect: the plan may be incomplete. "+
			"Use --target only for exceptional situations, such as repairing one resource; run a full plan afterwards to see what else differs.")
	}
}
