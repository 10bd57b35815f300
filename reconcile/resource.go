package reconcile

import (
	"sort"
	"strings"
)

// Action is what a change does to a resource.
type Action string

// Actions, as Terraform names them.
const (
	NoOp    Action = "no-op"
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace" // delete then create
	Delete  Action = "delete"
)

// Unknown is the value of an attribute that is known only after apply.
const Unknown = "(known after apply)"

// Resource is one desired or live resource: its address, type and attributes.
// Attribute values are strings; multi-line values (JSON documents) are diffed line
// by line. Sensitive attributes are never rendered.
type Resource struct {
	Address   string
	Type      string
	Sandbox   string // "" for shared resources
	ID        string // the AWS identifier (parameter name, alias name, key id, ...)
	Attrs     map[string]string
	Sensitive map[string]bool
	// DependsOn lists addresses this resource needs to exist first.
	DependsOn []string
	// Fingerprint identifies the live version read (SSM version, Lambda RevisionId,
	// key state, schedule modification date or content hash, ...). Live only.
	Fingerprint string
	// Extra carries kind-private data (a secret to write, a key id, ...). Never
	// serialised.
	Extra any
}

// attr returns an attribute or "".
func (r *Resource) attr(name string) string {
	if r == nil {
		return ""
	}
	return r.Attrs[name]
}

// Change is one entry of the change set.
type Change struct {
	Address   string            `json:"address"`
	Type      string            `json:"type"`
	Sandbox   string            `json:"sandbox_id,omitempty"`
	ID        string            `json:"id,omitempty"`
	Action    Action            `json:"action"`
	Reason    string            `json:"reason,omitempty"`
	Before    map[string]string `json:"before,omitempty"`
	After     map[string]string `json:"after,omitempty"`
	Sensitive []string          `json:"sensitive,omitempty"`
	// ForceNew lists the attributes whose change forces replacement.
	ForceNew  []string `json:"force_new,omitempty"`
	DependsOn []string `json:"depends_on,omitempty"`
	// Precondition is the live fingerprint the change was planned against; empty
	// when the resource did not exist.
	Precondition string `json:"precondition,omitempty"`

	desired *Resource
	live    *Resource
	say     func(format string, a ...any) // apply's progress output
}

// IsSensitive reports whether attribute name is sensitive.
func (c *Change) IsSensitive(name string) bool {
	for _, s := range c.Sensitive {
		if s == name {
			return true
		}
	}
	return false
}

// AttrNames returns the union of before and after attribute names, sorted.
func (c *Change) AttrNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{c.Before, c.After} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Plan is the change set: every resource that changes, in apply order, plus what
// it was computed from.
type Plan struct {
	FormatVersion   string   `json:"format_version"`
	DeclarationHash string   `json:"declaration_hash"`
	Prefix          string   `json:"prefix"`
	Region          string   `json:"region"`
	Targets         []string `json:"targets,omitempty"`
	Changes         []Change `json:"resource_changes"`
	Warnings        []string `json:"warnings,omitempty"`
	// Unchanged are the declared resources the plan leaves as they are
	// (action no-op), in plan order; apply ignores them.
	Unchanged []Change `json:"-"`
}

// Counts returns how many resources are added, changed and destroyed (a replace
// counts as one add and one destroy, as Terraform counts it).
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Delete:
			destroy++
		case Replace:
			add++
			destroy++
		}
	}
	return
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

// Sandboxes returns the sandbox ids the plan touches, sorted.
func (p *Plan) Sandboxes() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range p.Changes {
		if c.Sandbox != "" && !seen[c.Sandbox] {
			seen[c.Sandbox] = true
			out = append(out, c.Sandbox)
		}
	}
	sort.Strings(out)
	return out
}

// SandboxAddr is the address prefix of every resource of one sandbox.
func SandboxAddr(id string) string { return `sandbox["` + id + `"]` }

// matchesTarget reports whether addr is target or inside it.
func matchesTarget(addr, target string) bool {
	return addr == target || strings.HasPrefix(addr, target+".") || strings.HasPrefix(addr, target+"[")
}
