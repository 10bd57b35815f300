package reconcile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestActionsOf(t *testing.T) {
	for _, tc := range []struct {
		a    Action
		want []string
	}{
		{Create, []string{"create"}},
		{Update, []string{"update"}},
		{Replace, []string{"delete", "create"}},
		{Delete, []string{"delete"}},
		{NoOp, []string{"no-op"}},
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
	p := &Plan{FormatVersion: FormatVersion, Prefix: "km", Region: "us-east-1", Changes: []Change{{
		Address: `sandbox["sb-1"].km_github_token["acme"]`, Type: typeToken, Sandbox: "sb-1", Action: Update,
		Before:    map[string]string{"name": "/sandbox/sb-1/github-token", "value": secret, "key_id": "k-1"},
		After:     map[string]string{"name": "/sandbox/sb-1/github-token", "value": secret + "NEW", "key_id": Unknown},
		Sensitive: []string{"value"},
	}}}
	var buf bytes.Buffer
	if err := RenderJSON(&buf, p, PlanMeta{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), secret) {
		t.Fatalf("the secret is in the JSON output:\n%s", buf.String())
	}
	var doc JSONPlan
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.ResourceChanges[0]
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
	if c.Before["key_id"] != "k-1" || c.SandboxID == nil || *c.SandboxID != "sb-1" || !reflect.DeepEqual(c.Actions, []string{"update"}) {
		t.Errorf("change: %+v", c)
	}
	if !doc.HasChanges || doc.Summary != (JSONSummary{Change: 1}) {
		t.Errorf("summary: %+v has_changes=%v", doc.Summary, doc.HasChanges)
	}
}

// TestRenderJSONMatchesSchema validates every golden plan's JSON output
// against docs/plan-json.schema.json, and checks the schema rejects a
// document that breaks it.
func TestRenderJSONMatchesSchema(t *testing.T) {
	sch := compilePlanSchema(t)
	for name, p := range goldenPlans() {
		var buf bytes.Buffer
		if err := RenderJSON(&buf, p, goldenMeta); err != nil {
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
	bad := map[string]any{"format_version": "1.0", "resource_changes": []any{map[string]any{"actions": []any{"replace"}}}}
	if err := sch.Validate(bad); err == nil {
		t.Errorf("the schema accepts a document with actions [replace] and missing fields")
	}
}

func compilePlanSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "docs", "plan-json.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compiling %s: %v", path, err)
	}
	return sch
}
