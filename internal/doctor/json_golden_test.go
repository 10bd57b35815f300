package doctor_test

import (
	"bytes"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/doctor"
	"github.com/klankermaker/km/internal/schematest"
)

// go test ./internal/doctor -run Golden -update rewrites testdata/doctor.json.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var goldenAt = time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))

// TestDoctorJSONGolden: km doctor --format json with every status matches
// testdata/doctor.json and the schema; an undocumented status is an error.
func TestDoctorJSONGolden(t *testing.T) {
	r := doctor.Report{At: goldenAt, Checks: []doctor.Check{
		{Name: "config", Status: doctor.Pass, Message: "km.yaml: prefix km, 1 sandbox(es), 1 profile(s)"},
		{Name: "aws.identity", Status: doctor.Pass, Message: "arn:aws:iam::123456789012:user/ops (account 123456789012) in us-east-1", Fix: "never shown for a PASS"},
		{Name: "github.installation[my-org]", Status: doctor.Fail, Message: "my-org: installation 23456789 no longer exists: the App was uninstalled from my-org",
			Fix: "reinstall the App on my-org, then run `km configure github --discover --force`"},
		{Name: "github.legacy-installation-id", Status: doctor.Warn, Message: "SSM /km/config/github/installation-id is missing", Fix: "run `km apply`"},
		{Name: "sandbox[sb-7f3a9c].token[my-user]", Status: doctor.Pass, Message: "expires 2025-03-04T05:40:00Z"},
	}}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "doctor-json.schema.json"), "km doctor --format json", b.Bytes())
	schematest.Golden(t, filepath.Join("testdata", "doctor.json"), b.Bytes(), *update)

	r.Checks = append(r.Checks, doctor.Check{Name: "x", Status: "OK"})
	if err := r.WriteJSON(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"OK"`) {
		t.Errorf("an undocumented status: %v", err)
	}
}

// TestStatusesDocumented: the schema's status enum is exactly Statuses.
func TestStatusesDocumented(t *testing.T) {
	var statuses []string
	for _, s := range doctor.Statuses() {
		statuses = append(statuses, string(s))
	}
	got := schematest.Enum(t, "doctor-json.schema.json", "$defs", "check", "properties", "status")
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(statuses))) {
		t.Errorf("docs/doctor-json.schema.json status: enum %v, the code has %v", got, statuses)
	}
}
