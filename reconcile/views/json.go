package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/klankermaker/km/reconcile"
)

// JSONFormatVersion is the format_version of the document RenderJSON writes:
// the version of Terraform's plan representation ("terraform show -json",
// format_version 1.2) that the document follows for every field the two share,
// so that tools which reject an unknown major version accept it. km's own
// layout has its own version, KMJSONFormatVersion (docs/plan-json.md).
const JSONFormatVersion = "1.2"

// KMJSONFormatVersion is the version of km's layout of the document (its km_
// fields and where km puts things; docs/plan-json.md): a new field bumps the
// minor version, a removed, moved or re-typed field the major version. 2.0
// nested each change under change{} as Terraform does.
const KMJSONFormatVersion = "2.0"

// ProviderName is the provider_name of every resource change: km plays the
// role of one Terraform provider for all the resources it owns.
const ProviderName = "registry.terraform.io/klankermaker/km"

// JSONPlan is the machine-readable plan (km plan --format json, km show
// --format json), shaped as Terraform's plan representation where the two
// share fields; km's own fields use names Terraform's representation does not.
// Sensitive values are absent: before_sensitive and after_sensitive flag where
// they were.
type JSONPlan struct {
	FormatVersion   string `json:"format_version"`
	KMFormatVersion string `json:"km_format_version"`
	KMVersion       string `json:"km_version,omitempty"`
	PlanID          string `json:"plan_id,omitempty"`
	CreatedAt       string `json:"created_at,omitempty"`
	// Timestamp is Terraform's name for CreatedAt.
	Timestamp       string   `json:"timestamp,omitempty"`
	Declaration     string   `json:"declaration,omitempty"`
	DeclarationHash string   `json:"declaration_hash"`
	Prefix          string   `json:"prefix"`
	Region          string   `json:"region"`
	Account         string   `json:"account,omitempty"`
	Targets         []string `json:"targets"`
	Warnings        []string `json:"warnings"`
	HasChanges      bool     `json:"has_changes"`
	// Applyable, Complete and Errored are Terraform's: the plan changes
	// something; it is not limited by --target; it is not a failed plan
	// (always false: km renders no failed plan).
	Applyable       bool                  `json:"applyable"`
	Complete        bool                  `json:"complete"`
	Errored         bool                  `json:"errored"`
	Summary         reconcile.JSONSummary `json:"summary"`
	ResourceChanges []JSONResourceChange  `json:"resource_changes"`
}

// JSONResourceChange is one entry of resource_changes, as Terraform's: the
// resource's address, mode, type, name, index and provider_name, the change
// itself under change, and km's own fields prefixed km_.
type JSONResourceChange struct {
	Address string `json:"address"`
	Mode    string `json:"mode"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	// Index is the instance key, as a for_each key: the owner of a token, the
	// account of an installation parameter, else the sandbox of a sandbox's
	// resource; absent for a shared singleton.
	Index        *string    `json:"index,omitempty"`
	ProviderName string     `json:"provider_name"`
	ActionReason string     `json:"action_reason,omitempty"`
	Change       JSONChange `json:"change"`

	KMSandboxID    *string  `json:"km_sandbox_id"`
	KMID           *string  `json:"km_id"`
	KMReason       string   `json:"km_reason"`
	KMDependsOn    []string `json:"km_depends_on"`
	KMPrecondition *string  `json:"km_precondition"`
}

// JSONChange is Terraform's change object: actions is ["no-op"], ["create"],
// ["update"], ["delete","create"] (replace) or ["delete"].
type JSONChange struct {
	Actions         []string          `json:"actions"`
	Before          map[string]string `json:"before"`
	After           map[string]string `json:"after"`
	AfterUnknown    map[string]bool   `json:"after_unknown"`
	BeforeSensitive SensitiveMask     `json:"before_sensitive"`
	AfterSensitive  SensitiveMask     `json:"after_sensitive"`
	// ReplacePaths lists, for a replacement, the attribute paths that force
	// it (each path is one attribute name).
	ReplacePaths [][]string `json:"replace_paths,omitempty"`
}

// SensitiveMask flags the sensitive attributes of one side of a change. As in
// Terraform, the mask of a side that is null (before of a create, after of a
// delete) is false; otherwise it is an object, empty when nothing is
// sensitive.
type SensitiveMask map[string]bool

// MarshalJSON writes false for a nil mask, else the object.
func (m SensitiveMask) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("false"), nil
	}
	return json.Marshal(map[string]bool(m))
}

// UnmarshalJSON reads false as a nil mask and an object as the mask.
func (m *SensitiveMask) UnmarshalJSON(b []byte) error {
	if s := strings.TrimSpace(string(b)); s == "false" || s == "null" {
		*m = nil
		return nil
	}
	var v map[string]bool
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("a sensitivity mask is false or an object of attribute name to true: %w", err)
	}
	if v == nil {
		v = map[string]bool{}
	}
	*m = v
	return nil
}

// Terraform's action_reason values km uses.
const (
	reasonCannotUpdate = "replace_because_cannot_update"
	reasonEachKey      = "delete_because_each_key"
	reasonNoConfig     = "delete_because_no_resource_config"
)

// ActionsOf returns Terraform's actions list for an action.
func ActionsOf(a reconcile.Action) []string {
	switch a {
	case reconcile.Replace:
		return []string{"delete", "create"}
	case reconcile.Create, reconcile.Update, reconcile.Delete:
		return []string{string(a)}
	}
	return []string{string(reconcile.NoOp)}
}

// JSONDocument builds the JSON document of a plan.
func JSONDocument(p *reconcile.Plan, m reconcile.PlanMeta) JSONPlan {
	add, change, destroy := p.Counts()
	doc := JSONPlan{
		FormatVersion: JSONFormatVersion, KMFormatVersion: KMJSONFormatVersion,
		KMVersion: m.KMVersion, PlanID: m.PlanID,
		Declaration: m.Declaration, DeclarationHash: p.DeclarationHash,
		Prefix: p.Prefix, Region: p.Region, Account: m.Account,
		Targets: nonNil(p.Targets), Warnings: nonNil(p.Warnings), HasChanges: p.HasChanges(),
		Applyable: p.HasChanges(), Complete: len(p.Targets) == 0,
		Summary:         reconcile.JSONSummary{Add: add, Change: change, Destroy: destroy},
		ResourceChanges: make([]JSONResourceChange, 0, len(p.Changes)+len(p.Unchanged)),
	}
	if !m.CreatedAt.IsZero() {
		doc.CreatedAt = m.CreatedAt.UTC().Format(time.RFC3339)
		doc.Timestamp = doc.CreatedAt
	}
	// The changes in apply order, then, as Terraform lists them, the
	// resources left as they are (["no-op"]).
	for i := range p.Changes {
		doc.ResourceChanges = append(doc.ResourceChanges, jsonResourceChange(&p.Changes[i]))
	}
	for i := range p.Unchanged {
		doc.ResourceChanges = append(doc.ResourceChanges, jsonResourceChange(&p.Unchanged[i]))
	}
	return doc
}

func jsonResourceChange(c *reconcile.Change) JSONResourceChange {
	name, index := nameAndIndex(c)
	rc := JSONResourceChange{
		Address: c.Address, Mode: "managed", Type: c.Type, Name: name, Index: index,
		ProviderName: ProviderName,
		Change: JSONChange{
			Actions: ActionsOf(c.Action), AfterUnknown: map[string]bool{},
		},
		KMReason: c.Reason, KMDependsOn: nonNil(c.DependsOn),
	}
	if c.Sandbox != "" {
		rc.KMSandboxID = &c.Sandbox
	}
	if c.ID != "" {
		rc.KMID = &c.ID
	}
	if c.Precondition != "" {
		rc.KMPrecondition = &c.Precondition
	}
	switch c.Action {
	case reconcile.Replace:
		if len(c.ForceNew) > 0 {
			rc.ActionReason = reasonCannotUpdate
			for _, a := range c.ForceNew {
				rc.Change.ReplacePaths = append(rc.Change.ReplacePaths, []string{a})
			}
		}
	case reconcile.Delete:
		// km deletes an instance whose key (sandbox, owner, account) left
		// the declaration.
		rc.ActionReason = reasonNoConfig
		if index != nil {
			rc.ActionReason = reasonEachKey
		}
	}
	if c.Action != reconcile.Create && c.Before != nil {
		rc.Change.BeforeSensitive = SensitiveMask{}
		rc.Change.Before = redactAttrs(c, c.Before, rc.Change.BeforeSensitive, nil)
	}
	if c.Action != reconcile.Delete && c.After != nil {
		rc.Change.AfterSensitive = SensitiveMask{}
		rc.Change.After = redactAttrs(c, c.After, rc.Change.AfterSensitive, rc.Change.AfterUnknown)
	}
	return rc
}

// nameAndIndex splits a km address into Terraform's name and instance key.
// The sandbox prefix (sandbox["ID"].) is dropped; what is left is TYPE.NAME,
// TYPE.NAME["KEY"] or, for tokens, TYPE["KEY"] (name "token"). A sandbox's
// resource without a key of its own is indexed by the sandbox id, its
// for_each key.
func nameAndIndex(c *reconcile.Change) (string, *string) {
	rest := c.Address
	if c.Sandbox != "" {
		rest = strings.TrimPrefix(rest, reconcile.SandboxAddr(c.Sandbox)+".")
	}
	rest = strings.TrimPrefix(rest, c.Type)
	var key *string
	if i := strings.Index(rest, "["); i >= 0 {
		if k, err := strconv.Unquote(strings.TrimSuffix(rest[i+1:], "]")); err == nil {
			key = &k
		}
		rest = rest[:i]
	}
	name := strings.TrimPrefix(rest, ".")
	if name == "" {
		name = "token"
	}
	if key == nil && c.Sandbox != "" {
		key = &c.Sandbox
	}
	return name, key
}

// redactAttrs copies attrs without sensitive values (flagged in mask) and,
// when unknown is not nil, without values known only after apply (flagged in
// unknown).
func redactAttrs(c *reconcile.Change, attrs map[string]string, mask, unknown map[string]bool) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		switch {
		case c.IsSensitive(k):
			mask[k] = true
		case v == reconcile.Unknown && unknown != nil:
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
func RenderJSON(w io.Writer, p *reconcile.Plan, m reconcile.PlanMeta) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONDocument(p, m))
}
