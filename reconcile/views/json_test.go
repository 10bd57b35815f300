package views

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/klankermaker/km/internal/schematest"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/plantest"
)

func TestActionsOf(t *testing.T) {
	for _, tc := range []struct {
		a    reconcile.Action
		want []string
	}{
		{reconcile.Create, []string{"create"}},
		{reconcile.Update, []string{"update"}},
		{reconcile.Replace, []string{"delete", "create"}},
		{reconcile.Delete, []string{"delete"}},
		{reconcile.NoOp, []string{"no-op"}},
	} {
		if got := ActionsOf(tc.a); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ActionsOf(%s) = %v, want %v", tc.a, got, tc.want)
		}
	}
}

// TestRenderJSONRedactsSecrets: sensitive values are removed from before and
// after (not masked in place) and flagged in the masks; values known only
// after apply move to after_unknown.
func TestRenderJSONRedactsSecrets(t *testing.T) {
	const secret = "ghs_THISISASECRETTOKEN0123456789"
	p := &reconcile.Plan{FormatVersion: reconcile.FormatVersion, Prefix: "km", Region: "us-east-1", Changes: []reconcile.Change{{
		Address: `sandbox["sb-1"].km_github_token["acme"]`, Type: reconcile.TypeToken, Sandbox: "sb-1", Action: reconcile.Update,
		Before:    map[string]string{"name": "/sandbox/sb-1/github-token", "value": secret, "key_id": "k-1"},
		After:     map[string]string{"name": "/sandbox/sb-1/github-token", "value": secret + "NEW", "key_id": reconcile.Unknown},
		Sensitive: []string{"value"},
	}}}
	var buf bytes.Buffer
	if err := RenderJSON(&buf, p, reconcile.PlanMeta{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), secret) {
		t.Fatalf("the secret is in the JSON output:\n%s", buf.String())
	}
	var doc JSONPlan
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	rc := doc.ResourceChanges[0]
	c := rc.Change
	if _, ok := c.Before["value"]; ok {
		t.Errorf("before still has the sensitive key: %v", c.Before)
	}
	if _, ok := c.After["value"]; ok {
		t.Errorf("after still has the sensitive key: %v", c.After)
	}
	if !c.BeforeSensitive["value"] || !c.AfterSensitive["value"] {
		t.Errorf("masks do not flag value: %v %v", c.BeforeSensitive, c.AfterSensitive)
	}
	if _, ok := c.After["key_id"]; ok || !c.AfterUnknown["key_id"] {
		t.Errorf("unknown key_id: after=%v after_unknown=%v", c.After, c.AfterUnknown)
	}
	if c.Before["key_id"] != "k-1" || rc.KMSandboxID == nil || *rc.KMSandboxID != "sb-1" || !reflect.DeepEqual(c.Actions, []string{"update"}) {
		t.Errorf("change: %+v", rc)
	}
	if !doc.HasChanges || doc.Summary != (reconcile.JSONSummary{Change: 1}) {
		t.Errorf("summary: %+v has_changes=%v", doc.Summary, doc.HasChanges)
	}
}

// TestRenderJSONMatchesSchema validates every golden plan's JSON output
// against docs/plan-json.schema.json, and checks the schema rejects a
// document that breaks it.
func TestRenderJSONMatchesSchema(t *testing.T) {
	sch := schematest.Compile(t, "plan-json.schema.json")
	for name, p := range plantest.Plans() {
		var buf bytes.Buffer
		if err := RenderJSON(&buf, p, plantest.Meta()); err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: the JSON output does not match the schema: %v", name, err)
		}
	}
	var good map[string]any
	var buf bytes.Buffer
	if err := RenderJSON(&buf, plantest.Plans()["mixed"], plantest.Meta()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(doc map[string]any)
	}{
		{"actions [replace]", func(d map[string]any) { change(d, 0)["actions"] = []any{"replace"} }},
		{"actions at the top level (format 1.0)", func(d map[string]any) { rc(d, 0)["actions"] = []any{"update"} }},
		{"no change object", func(d map[string]any) { delete(rc(d, 0), "change") }},
		{"mode data", func(d map[string]any) { rc(d, 0)["mode"] = "data" }},
		{"unknown type", func(d map[string]any) { rc(d, 0)["type"] = "aws_s3_bucket" }},
		{"major version 2", func(d map[string]any) { d["format_version"] = "2.0" }},
		{"sensitive mask true", func(d map[string]any) { change(d, 0)["before_sensitive"] = true }},
		{"a non-string attribute", func(d map[string]any) { change(d, 1)["before"].(map[string]any)["version"] = 3 }},
	} {
		if err := json.Unmarshal(buf.Bytes(), &good); err != nil {
			t.Fatal(err)
		}
		tc.mutate(good)
		if err := sch.Validate(good); err == nil {
			t.Errorf("the schema accepts a document with %s", tc.name)
		}
	}
}

func rc(doc map[string]any, i int) map[string]any {
	return doc["resource_changes"].([]any)[i].(map[string]any)
}

func change(doc map[string]any, i int) map[string]any { return rc(doc, i)["change"].(map[string]any) }

// TestSchemaTypeEnum: the schema's type enum is exactly the resource types km
// plans.
func TestSchemaTypeEnum(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "plan-json.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	got := s.Defs["resource_change"].Properties["type"].Enum
	want := reconcile.ResourceTypes()
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("schema type enum %v, km plans %v: update docs/plan-json.schema.json and docs/plan-json.md", got, want)
	}
}

// TestNameAndIndex: Terraform's name and index (the for_each key) of every
// address shape km has.
func TestNameAndIndex(t *testing.T) {
	for _, tc := range []struct {
		c           reconcile.Change
		name, index string
	}{
		{reconcile.Change{Address: "aws_iam_role.refresher", Type: "aws_iam_role"}, "refresher", ""},
		{reconcile.Change{Address: `aws_ssm_parameter.installation["my-org"]`, Type: "aws_ssm_parameter"}, "installation", "my-org"},
		{reconcile.Change{Address: `sandbox["sb-1"].aws_kms_key.token`, Type: "aws_kms_key", Sandbox: "sb-1"}, "token", "sb-1"},
		{reconcile.Change{Address: `sandbox["sb-1"].aws_scheduler_schedule.refresh`, Type: "aws_scheduler_schedule", Sandbox: "sb-1"}, "refresh", "sb-1"},
		{reconcile.Change{Address: `sandbox["sb-1"].km_github_token["my-user"]`, Type: "km_github_token", Sandbox: "sb-1"}, "token", "my-user"},
	} {
		name, index := nameAndIndex(&tc.c)
		got := ""
		if index != nil {
			got = *index
		}
		if name != tc.name || got != tc.index {
			t.Errorf("%s: name %q index %q, want %q %q", tc.c.Address, name, got, tc.name, tc.index)
		}
	}
}
