package reconcile

import (
	"encoding/json"
	"io"
	"time"
)

// JSONFormatVersion is the version of the document RenderJSON writes
// (docs/plan-json.md, docs/plan-json.schema.json). A new field bumps the minor
// version; a removed or re-typed field bumps the major version.
const JSONFormatVersion = "1.0"

// PlanMeta is what is known about a plan besides its changes: set when the plan
// comes from a plan file (km show) or is being saved (km plan --out).
type PlanMeta struct {
	KMVersion string
	PlanID    string
	CreatedAt time.Time
	Account   string
	// Declaration is the declaration file's path as shown to reviewers
	// (relative to the repository root when there is one).
	Declaration string
}

// JSONPlan is the machine-readable plan (km plan --format json, km show
// --format json). Sensitive values are absent: before_sensitive and
// after_sensitive flag where they were.
type JSONPlan struct {
	FormatVersion   string       `json:"format_version"`
	KMVersion       string       `json:"km_version,omitempty"`
	PlanID          string       `json:"plan_id,omitempty"`
	CreatedAt       string       `json:"created_at,omitempty"`
	Declaration     string       `json:"declaration,omitempty"`
	DeclarationHash string       `json:"declaration_hash"`
	Prefix          string       `json:"prefix"`
	Region          string       `json:"region"`
	Account         string       `json:"account,omitempty"`
	Targets         []string     `json:"targets"`
	Warnings        []string     `json:"warnings"`
	HasChanges      bool         `json:"has_changes"`
	Summary         JSONSummary  `json:"summary"`
	ResourceChanges []JSONChange `json:"resource_changes"`
}

// JSONSummary counts the changes as the "Plan:" line does (a replacement is one
// add and one destroy).
type JSONSummary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}

// JSONChange is one resource change, shaped like Terraform's resource_changes[]
// entries: actions is ["create"], ["update"], ["delete","create"] (replace),
// ["delete"] or ["no-op"].
type JSONChange struct {
	Address         string            `json:"address"`
	Type            string            `json:"type"`
	SandboxID       *string           `json:"sandbox_id"`
	ID              *string           `json:"id"`
	Actions         []string          `json:"actions"`
	Reason          string            `json:"reason"`
	Before          map[string]string `json:"before"`
	After           map[string]string `json:"after"`
	AfterUnknown    map[string]bool   `json:"after_unknown"`
	BeforeSensitive map[string]bool   `json:"before_sensitive"`
	AfterSensitive  map[string]bool   `json:"after_sensitive"`
	ForceNew        []string          `json:"force_new"`
	DependsOn       []string          `json:"depends_on"`
}

// ActionsOf returns Terraform's actions list for an action.
func ActionsOf(a Action) []string {
	switch a {
	case Replace:
		return []string{"delete", "create"}
	case Create, Update, Delete:
		return []string{string(a)}
	}
	return []string{string(NoOp)}
}

// JSONDocument builds the JSON document of a plan.
func JSONDocument(p *Plan, m PlanMeta) JSONPlan {
	add, change, destroy := p.Counts()
	doc := JSONPlan{
		FormatVersion: JSONFormatVersion, KMVersion: m.KMVersion, PlanID: m.PlanID,
		Declaration: m.Declaration, DeclarationHash: p.DeclarationHash,
		Prefix: p.Prefix, Region: p.Region, Account: m.Account,
		Targets: nonNil(p.Targets), Warnings: nonNil(p.Warnings), HasChanges: p.HasChanges(),
		Summary:         JSONSummary{Add: add, Change: change, Destroy: destroy},
		ResourceChanges: make([]JSONChange, 0, len(p.Changes)),
	}
	if !m.CreatedAt.IsZero() {
		doc.CreatedAt = m.CreatedAt.UTC().Format(time.RFC3339)
	}
	for i := range p.Changes {
		doc.ResourceChanges = append(doc.ResourceChanges, jsonChange(&p.Changes[i]))
	}
	return doc
}

func jsonChange(c *Change) JSONChange {
	jc := JSONChange{
		Address: c.Address, Type: c.Type, Actions: ActionsOf(c.Action), Reason: c.Reason,
		AfterUnknown: map[string]bool{}, BeforeSensitive: map[string]bool{}, AfterSensitive: map[string]bool{},
		ForceNew: nonNil(c.ForceNew), DependsOn: nonNil(c.DependsOn),
	}
	if c.Sandbox != "" {
		jc.SandboxID = &c.Sandbox
	}
	if c.ID != "" {
		jc.ID = &c.ID
	}
	if c.Action != Create && c.Before != nil {
		jc.Before = redactAttrs(c, c.Before, jc.BeforeSensitive, nil)
	}
	if c.Action != Delete && c.After != nil {
		jc.After = redactAttrs(c, c.After, jc.AfterSensitive, jc.AfterUnknown)
	}
	return jc
}

// redactAttrs copies attrs without sensitive values (flagged in mask) and,
// when unknown is not nil, without values known only after apply (flagged in
// unknown).
func redactAttrs(c *Change, attrs map[string]string, mask, unknown map[string]bool) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		switch {
		case c.IsSensitive(k):
			mask[k] = true
		case v == Unknown && unknown != nil:
			unknown[k] = true
		default:
			out[k] = v
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	out := append([]string(nil), s...)
	return out
}

// RenderJSON writes the plan as one indented JSON document (docs/plan-json.md).
func RenderJSON(w io.Writer, p *Plan, m PlanMeta) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONDocument(p, m))
}
