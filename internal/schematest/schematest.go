// Package schematest is for tests of km's documented JSON outputs: it compiles
// the JSON Schemas under docs/ (draft 2020-12), validates documents against
// them, and compares outputs with golden files (rewritten with -update). Only
// tests import it; it must not import any km package.
package schematest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Root returns the module's root folder (the nearest folder above the working
// directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Compile compiles docs/NAME (a JSON Schema).
func Compile(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(Root(t), "docs", name)
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
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compiling %s: %v", path, err)
	}
	return sch
}

// Validate fails the test when doc is not JSON or does not match the schema.
func Validate(t testing.TB, sch *jsonschema.Schema, what string, doc []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, doc)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s does not match its schema: %v\n%s", what, err, doc)
	}
}

// Golden compares got with the file at path, or rewrites the file when update
// is set.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (if the change is intended, run with -update and review the diff)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// Enum returns the string values of the enum at path (object keys from the
// schema's root, e.g. "$defs", "check", "properties", "status") in docs/NAME;
// a null member is left out.
func Enum(t testing.TB, name string, path ...string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(t), "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	var node any
	if err := json.Unmarshal(b, &node); err != nil {
		t.Fatalf("docs/%s: %v", name, err)
	}
	for _, p := range path {
		m, ok := node.(map[string]any)
		if !ok {
			t.Fatalf("docs/%s: no %v", name, path)
		}
		node = m[p]
	}
	m, _ := node.(map[string]any)
	vals, ok := m["enum"].([]any)
	if !ok {
		t.Fatalf("docs/%s: no enum at %v", name, path)
	}
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
