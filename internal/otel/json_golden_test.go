package otel_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/otel"
	"github.com/klankermaker/km/internal/schematest"
)

// go test ./internal/otel -run Golden -update rewrites testdata/otel.json.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var goldenAt = time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))

// TestEventsJSONGolden: km otel --events --format json with a refresh, a
// failure and a line that is not the refresher's JSON matches
// testdata/otel.json and the schema.
func TestEventsJSONGolden(t *testing.T) {
	l := otel.EventLog{SandboxID: "sb-7f3a9c", From: goldenAt.Add(-time.Hour), To: goldenAt, Events: []otel.Event{
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
	if err := otel.WriteEventsJSON(&b, l); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "otel-json.schema.json"), "km otel --events --format json", b.Bytes())
	schematest.Golden(t, filepath.Join("testdata", "otel.json"), b.Bytes(), *update)

	var empty bytes.Buffer
	if err := otel.WriteEventsJSON(&empty, otel.EventLog{SandboxID: "sb-none", From: goldenAt, To: goldenAt}); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "otel-json.schema.json"), "no events", empty.Bytes())
	if !strings.Contains(empty.String(), `"events": []`) {
		t.Errorf("no events is not an empty list:\n%s", empty.String())
	}
}

// TestOutcomesDocumented: the schema's outcome enum is exactly Outcomes.
func TestOutcomesDocumented(t *testing.T) {
	got := schematest.Enum(t, "otel-json.schema.json", "$defs", "event", "properties", "outcome")
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(otel.Outcomes()))) {
		t.Errorf("docs/otel-json.schema.json outcome: enum %v, the code has %v", got, otel.Outcomes())
	}
}
