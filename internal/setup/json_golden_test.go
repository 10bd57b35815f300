package setup_test

import (
	"bytes"
	"encoding/json"
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

// TestEventsJSONGolden: km otel --events --format json with a refresh, a
// failure and a line that is not the refresher's JSON matches
// testdata/otel.json and the schema.
func TestEventsJSONGolden(t *testing.T) {
	l := setup.EventLog{SandboxID: "sb-7f3a9c", From: goldenAt.Add(-time.Hour), To: goldenAt, Events: []setup.Event{
		{
			Time: goldenAt.Add(-40 * time.Minute).Add(120 * time.Millisecond), Msg: "token_refreshed", Level: "INFO", SandboxID: "sb-7f3a9c",
			Owner: "my-user", InstallationID: 12345678, Parameter: "/sandbox/sb-7f3a9c/github-token",
			Repositories: json.RawMessage(`"my-repo,other-repo"`), Permissions: json.RawMessage(`"contents=write,metadata=read"`),
			ExpiresAt: "2025-03-04T05:26:07+01:00", TokenSHA: "3f9a0c1b2d4e",
		},
		{
			Time: goldenAt.Add(-35 * time.Minute), Msg: "token_refreshed", Level: "INFO", SandboxID: "sb-7f3a9c",
			Owner: "my-org", InstallationID: 23456789, Parameter: "/sandbox/sb-7f3a9c/github-token-my-org",
			Repositories: json.RawMessage(`"*"`), Permissions: json.RawMessage(`{"contents":"read","metadata":"read"}`),
			ExpiresAt: "2025-03-04T04:31:07Z", TokenSHA: "0a1b2c3d4e5f",
		},
		{
			Time: goldenAt.Add(-5 * time.Minute), Msg: "token_refresh_failed", Level: "ERROR", SandboxID: "sb-7f3a9c",
			Owner: "my-org", InstallationID: 23456789, Repositories: json.RawMessage(`["api","web"]`),
			Error: "installation 23456789 is suspended",
		},
		{Time: goldenAt.Add(-time.Minute), Raw: "2025-03-04T04:05:07Z REPORT RequestId: sb-7f3a9c Duration: 812.11 ms"},
	}}
	var b bytes.Buffer
	if err := setup.WriteEventsJSON(&b, l); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "otel-json.schema.json"), "km otel --events --format json", b.Bytes())
	schematest.Golden(t, filepath.Join("testdata", "otel.json"), b.Bytes(), *update)

	var empty bytes.Buffer
	if err := setup.WriteEventsJSON(&empty, setup.EventLog{SandboxID: "sb-none", From: goldenAt, To: goldenAt}); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "otel-json.schema.json"), "no events", empty.Bytes())
	if !strings.Contains(empty.String(), `"events": []`) {
		t.Errorf("no events is not an empty list:\n%s", empty.String())
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
		{"otel-json.schema.json", []string{"$defs", "event", "properties", "outcome"}, setup.Outcomes()},
	} {
		got := schematest.Enum(t, tc.schema, tc.path...)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("docs/%s %v: enum %v, the code has %v", tc.schema, tc.path, got, want)
		}
	}
}
