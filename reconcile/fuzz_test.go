package reconcile

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzDecodePlanFile: the plan-file decoder never panics, and what it accepts
// re-encodes to a file it accepts again with the same changes.
func FuzzDecodePlanFile(f *testing.F) {
	p := &Plan{FormatVersion: FormatVersion, DeclarationHash: "abc", Prefix: "km", Region: "us-east-1",
		Changes: []Change{{Address: `sandbox["sb-a"].aws_kms_key.token`, Type: TypeKey, Sandbox: "sb-a", Action: Create, After: map[string]string{"description": "d"}}}}
	pf, err := NewPlanFile(p, PlanMeta{KMVersion: "(devel)", PlanID: "0b5e7a7c-3c2e-4b7a-9a53-3e8f0c4b1d2e", CreatedAt: time.Unix(0, 0)})
	if err != nil {
		f.Fatal(err)
	}
	b, err := json.Marshal(pf)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"kind":"km-plan"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := DecodePlanFile(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(pf)
		if err != nil {
			t.Fatalf("an accepted plan file does not re-encode: %v", err)
		}
		pf2, err := DecodePlanFile(again)
		if err != nil {
			t.Fatalf("an accepted plan file, re-encoded, is refused: %v", err)
		}
		if len(pf2.Changes) != len(pf.Changes) || pf2.PlanID != pf.PlanID {
			t.Fatalf("round trip changed the plan: %d -> %d changes", len(pf.Changes), len(pf2.Changes))
		}
	})
}
