package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/atomicfile"
)

// PlanFileKind marks a km plan file.
const PlanFileKind = "km-plan"

// PlanFileVersion is the version of the plan file format (docs/plan-format.md).
// km applies plan files of the same major version only. 1.1 added unchanged.
const PlanFileVersion = "1.1"

// PlanFile is a saved plan (km plan --out FILE): the change set and, for every
// resource it touches, the live fingerprint it was computed from. It holds no
// secret: sensitive attribute values are replaced by a digest, and tokens are
// minted at apply time.
type PlanFile struct {
	Kind            string    `json:"kind"`
	FormatVersion   string    `json:"format_version"`
	KMVersion       string    `json:"km_version"`
	PlanID          string    `json:"plan_id"`
	CreatedAt       time.Time `json:"created_at"`
	Declaration     string    `json:"declaration,omitempty"`
	DeclarationHash string    `json:"declaration_hash"`
	Prefix          string    `json:"prefix"`
	Region          string    `json:"region"`
	Account         string    `json:"account,omitempty"`
	Targets         []string  `json:"targets,omitempty"`
	Warnings        []string  `json:"warnings,omitempty"`
	// Summary is informational; apply ignores it.
	Summary JSONSummary `json:"summary"`
	Changes []Change    `json:"resource_changes"`
	// Unchanged are the resources the plan leaves as they are (action
	// no-op), for km show --format json; apply ignores them.
	Unchanged []Change `json:"unchanged,omitempty"`
}

// NewPlanFile turns a plan into a plan file. m.PlanID must be set (see
// ValidPlanID); m.CreatedAt defaults to now.
func NewPlanFile(p *Plan, m PlanMeta) (*PlanFile, error) {
	if !ValidPlanID(m.PlanID) {
		return nil, fmt.Errorf("plan id %q is not a UUID", m.PlanID)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	add, change, destroy := p.Counts()
	f := &PlanFile{
		Kind: PlanFileKind, FormatVersion: PlanFileVersion, KMVersion: m.KMVersion, PlanID: m.PlanID,
		CreatedAt: m.CreatedAt.UTC().Truncate(time.Second), Declaration: m.Declaration,
		DeclarationHash: p.DeclarationHash, Prefix: p.Prefix, Region: p.Region, Account: m.Account,
		Targets: p.Targets, Warnings: p.Warnings,
		Summary: JSONSummary{Add: add, Change: change, Destroy: destroy},
		Changes: make([]Change, 0, len(p.Changes)),
	}
	seal := func(c Change) Change {
		c.Before = sealSensitive(&c, c.Before)
		c.After = sealSensitive(&c, c.After)
		c.desired, c.live = nil, nil
		return c
	}
	for _, c := range p.Changes {
		if c.Action != NoOp {
			f.Changes = append(f.Changes, seal(c))
		}
	}
	for _, c := range p.Unchanged {
		if c.Action == NoOp {
			f.Unchanged = append(f.Unchanged, seal(c))
		}
	}
	return f, nil
}

// Plan returns the plan the file holds (for rendering and applying).
func (f *PlanFile) Plan() *Plan {
	return &Plan{
		FormatVersion: f.FormatVersion, DeclarationHash: f.DeclarationHash, Prefix: f.Prefix,
		Region: f.Region, Targets: f.Targets, Warnings: f.Warnings,
		Changes:   append([]Change(nil), f.Changes...),
		Unchanged: append([]Change(nil), f.Unchanged...),
	}
}

// Meta returns the file's metadata for the renderers.
func (f *PlanFile) Meta() PlanMeta {
	return PlanMeta{KMVersion: f.KMVersion, PlanID: f.PlanID, CreatedAt: f.CreatedAt, Account: f.Account, Declaration: f.Declaration}
}

// sealedPrefix starts a sensitive value in a plan file: a digest that shows
// whether the value changes, never the value.
const sealedPrefix = "(sensitive sha256:"

// sealSensitive replaces the values of sensitive attributes with a digest.
func sealSensitive(c *Change, attrs map[string]string) map[string]string {
	if attrs == nil {
		return nil
	}
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if c.IsSensitive(k) && v != Unknown {
			v = sealValue(v)
		}
		out[k] = v
	}
	return out
}

func sealValue(v string) string {
	if strings.HasPrefix(v, sealedPrefix) {
		return v
	}
	return sealedPrefix + shortHash(v) + ")"
}

// Encode returns the file's bytes: indented JSON with a trailing newline.
func (f *PlanFile) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding the plan file: %w", err)
	}
	return buf.Bytes(), nil
}

// WritePlanFile writes f to path atomically, readable by its owner only.
func WritePlanFile(path string, f *PlanFile) error {
	b, err := f.Encode()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return fmt.Errorf("writing the plan file %s: %w", path, err)
	}
	return nil
}

// ErrNotPlanFile is wrapped when a file is not a km plan file.
var ErrNotPlanFile = errors.New("not a km plan file")

// ReadPlanFile reads and checks a plan file.
func ReadPlanFile(path string) (*PlanFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the plan file %s: %w", path, err)
	}
	f, err := DecodePlanFile(b)
	if err != nil {
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return f, nil
}

var planIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkFormatVersion accepts PlanFileVersion's major version with a minor
// version not newer than this km's.
func checkFormatVersion(v string) error {
	wantMajor, wantMinor := splitVersion(PlanFileVersion)
	major, minor := splitVersion(v)
	switch {
	case major < 0 || major != wantMajor:
		return fmt.Errorf("format version %q is not supported by this km (it reads %d.x); plan again with this km", v, wantMajor)
	case minor > wantMinor:
		return fmt.Errorf("format version %q was written by a newer km (this one reads up to %s); apply it with that km or a newer one", v, PlanFileVersion)
	}
	return nil
}

func splitVersion(v string) (major, minor int) {
	a, b, ok := strings.Cut(v, ".")
	ma, err1 := strconv.Atoi(a)
	mi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || ma < 0 || mi < 0 {
		return -1, -1
	}
	return ma, mi
}

// ValidPlanID reports whether id is a plan id (a lowercase UUID).
func ValidPlanID(id string) bool { return planIDRE.MatchString(id) }

// DecodePlanFile parses and checks a plan file: its kind, a format version
// this km reads (same major, minor not newer), a plan id, and changes whose
// actions and types km knows. Unknown fields are an error.
func DecodePlanFile(b []byte) (*PlanFile, error) {
	var probe struct {
		Kind          string `json:"kind"`
		FormatVersion string `json:"format_version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w (%v); write one with km plan --out FILE", ErrNotPlanFile, err)
	}
	if probe.Kind != PlanFileKind {
		return nil, fmt.Errorf("%w: kind is %q, expected %q; write one with km plan --out FILE", ErrNotPlanFile, probe.Kind, PlanFileKind)
	}
	if err := checkFormatVersion(probe.FormatVersion); err != nil {
		return nil, err
	}
	var f PlanFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("malformed plan file: %w", err)
	}
	if !ValidPlanID(f.PlanID) {
		return nil, fmt.Errorf("plan id %q is not a UUID", f.PlanID)
	}
	if f.DeclarationHash == "" || f.Prefix == "" {
		return nil, errors.New("declaration_hash or prefix is missing")
	}
	seen := map[string]bool{}
	for i, c := range f.Changes {
		switch c.Action {
		case Create, Update, Delete, Replace:
		default:
			return nil, fmt.Errorf("resource_changes[%d] (%s): unknown action %q", i, c.Address, c.Action)
		}
		if kindOf(c.Type) == nil {
			return nil, fmt.Errorf("resource_changes[%d] (%s): unknown resource type %q", i, c.Address, c.Type)
		}
		if c.Address == "" || seen[c.Address] {
			return nil, fmt.Errorf("resource_changes[%d]: empty or repeated address %q", i, c.Address)
		}
		seen[c.Address] = true
	}
	for i, c := range f.Unchanged {
		if c.Action != NoOp {
			return nil, fmt.Errorf("unchanged[%d] (%s): action %q, expected no-op", i, c.Address, c.Action)
		}
		if kindOf(c.Type) == nil {
			return nil, fmt.Errorf("unchanged[%d] (%s): unknown resource type %q", i, c.Address, c.Type)
		}
		if c.Address == "" || seen[c.Address] {
			return nil, fmt.Errorf("unchanged[%d]: empty or repeated address %q", i, c.Address)
		}
		seen[c.Address] = true
	}
	return &f, nil
}
