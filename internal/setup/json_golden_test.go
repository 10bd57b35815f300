package setup_test

import (
	"bytes"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/schematest"
	"github.com/klankermaker/km/internal/setup"
)

// go test ./internal/setup -run Golden -update rewrites testdata/*.json.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var goldenAt = time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))

// TestDoctorJSONGolden: km doctor --format json with every status matches
// testdata/doctor.json and the schema; an undocumented status is an error.
func TestDoctorJSONGolden(t *testing.T) {
	r := setup.Report{At: goldenAt, Checks: []setup.Check{
		{Name: "config", Status: setup.Pass, Message: "km.yaml: prefix km, 1 sandbox(es), 1 profile(s)"},
		{Name: "aws.identity", Status: setup.Pass, Message: "arn:aws:iam::123456789012:user/ops (account 123456789012) in us-east-1", Fix: "never shown for a PASS"},
		{Name: "github.installation[my-org]", Status: setup.Fail, Message: "my-org: installation 23456789 no longer exists: the App was uninstalled from my-org",
			Fix: "reinstall the App on my-org, then run `km configure github --discover --force`"},
		{Name: "github.legacy-installation-id", Status: setup.Warn, Message: "SSM /km/config/github/installation-id is missing", Fix: "run `km apply`"},
		{Name: "sandbox[sb-7f3a9c].token[my-user]", Status: setup.Pass, Message: "expires 2025-03-04T05:40:00Z"},
	}}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "doctor-json.schema.json"), "km doctor --format json", b.Bytes())
	schematest.Golden(t, filepath.Join("testdata", "doctor.json"), b.Bytes(), *update)

	r.Checks = append(r.Checks, setup.Check{Name: "x", Status: "OK"})
	if err := r.WriteJSON(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"OK"`) {
		t.Errorf("an undocumented status: %v", err)
	}
}

// TestJSONEnumsDocumented: the schemas' enums are exactly the values the
// code has.
func TestJSONEnumsDocumented(t *testing.T) {
	var statuses []string
	for _, s := range setup.Statuses() {
		statuses = append(statuses, string(s))
	}
	for _, tc := range []struct {
		schema string
		path   []string
		want   []string
	}{
		{"doctor-json.schema.json", []string{"$defs", "check", "properties", "status"}, statuses},
	} {
		got := schematest.Enum(t, tc.schema, tc.path...)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("docs/%s %v: enum %v, the code has %v", tc.schema, tc.path, got, want)
		}
	}
}
