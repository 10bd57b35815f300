package otel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/configtest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/otel"
	"github.com/klankermaker/km/internal/schematest"
	"github.com/klankermaker/km/state"
)

// TestOtelEvents: km otel returns one sandbox's refresher events from the log
// group, oldest first, parsed field by field, within --since.
func TestOtelEvents(t *testing.T) {
	f := configtest.New(t)
	f.Write("km.yaml", fmt.Sprintf("region: us-east-1\nprefix: %s\n", f.Prefix))
	ctx := context.Background()
	group := names.New(f.Prefix).LogGroup()
	if err := f.AWS.CreateLogGroup(ctx, group, nil); err != nil {
		t.Fatal(err)
	}
	sb, other := "sb-"+configtest.Uniq(t), "sb-"+configtest.Uniq(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	line := func(at time.Time, msg, sandbox, extra string) state.LogEvent {
		return state.LogEvent{Time: at, Message: fmt.Sprintf(`{"time":%q,"level":"INFO","msg":%q,"sandbox_id":%q%s}`, at.Format(time.RFC3339Nano), msg, sandbox, extra)}
	}
	events := []state.LogEvent{
		line(now.Add(-3*time.Hour), "token_refreshed", sb, ""), // before --since
		line(now.Add(-40*time.Minute), "token_refreshed", sb, `,"owner":"my-user","installation_id":20000001,"repositories":["my-repo","other"],"permissions":{"contents":"write","metadata":"read"},"expires_at":"2030-01-01T00:00:00Z","token_sha":"abcdef123456"`),
		line(now.Add(-30*time.Minute), "token_refreshed", other, ""),
		line(now.Add(-20*time.Minute), "token_refresh_failed", other, fmt.Sprintf(`,"repositories":[%q]`, sb)), // matches the pattern, belongs to other
		line(now.Add(-5*time.Minute), "token_refresh_failed", sb, `,"owner":"my-org","installation_id":20000002,"error":"installation suspended"`),
	}
	if err := f.AWS.PutLogEvents(ctx, group, "2026/01/01/[$LATEST]abc", events); err != nil {
		t.Fatal(err)
	}

	got, err := otel.Events(ctx, f.Env(), otel.EventsOptions{SandboxID: sb, Since: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(got), got)
	}
	first, last := got[0], got[1]
	if first.Msg != "token_refreshed" || last.Msg != "token_refresh_failed" || !first.Time.Before(last.Time) {
		t.Errorf("order/messages: %s at %s, %s at %s; want refreshed then failed, newest last", first.Msg, first.Time, last.Msg, last.Time)
	}
	if first.Owner != "my-user" || first.InstallationID != 20000001 || first.TokenSHA != "abcdef123456" || first.ExpiresAt != "2030-01-01T00:00:00Z" {
		t.Errorf("fields of the refreshed event: %+v", first)
	}
	if last.Error != "installation suspended" || last.InstallationID != 20000002 {
		t.Errorf("fields of the failed event: %+v", last)
	}

	var txt bytes.Buffer
	if err := otel.WriteEventsText(&txt, sb, time.Hour, got); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(txt.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "repositories=my-repo,other") || !strings.Contains(lines[1], `error="installation suspended"`) {
		t.Errorf("text output:\n%s", txt.String())
	}
	l, err := otel.ReadEvents(ctx, f.Env(), otel.EventsOptions{SandboxID: sb, Since: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := otel.WriteEventsJSON(&js, l); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "otel-json.schema.json"), "km otel --events --format json", js.Bytes())
	var decoded struct {
		SandboxID string           `json:"sandbox_id"`
		From, To  time.Time        // RFC 3339
		Events    []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || len(decoded.Events) != 2 || decoded.Events[1]["error"] != "installation suspended" ||
		decoded.Events[0]["outcome"] != "refreshed" || decoded.Events[1]["outcome"] != "failed" || decoded.SandboxID != sb || decoded.To.Sub(decoded.From) != time.Hour {
		t.Errorf("JSON output (%v):\n%s", err, js.String())
	}

	wide, err := otel.Events(ctx, f.Env(), otel.EventsOptions{SandboxID: sb, Since: 4 * time.Hour})
	if err != nil || len(wide) != 3 {
		t.Errorf("--since 4h: %d events (%v), want 3", len(wide), err)
	}
	none, err := otel.Events(ctx, f.Env(), otel.EventsOptions{SandboxID: "sb-" + configtest.Uniq(t)})
	if err != nil || len(none) != 0 {
		t.Errorf("unknown sandbox: %d events, %v", len(none), err)
	}
}

// TestOtelNoLogGroup: before the first apply the log group is missing; the
// error says what to do.
func TestOtelNoLogGroup(t *testing.T) {
	f := configtest.New(t)
	f.Write("km.yaml", fmt.Sprintf("region: us-east-1\nprefix: %s\n", f.Prefix))
	_, err := otel.Events(context.Background(), f.Env(), otel.EventsOptions{SandboxID: "sb-x"})
	if err == nil || !strings.Contains(err.Error(), "km apply") {
		t.Fatalf("error %v, want one saying to run km apply", err)
	}
}

// go test ./internal/otel -run Golden -update rewrites testdata/otel.json.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestEventsJSONGolden: km otel --events --format json with a refresh, a
// failure and a line that is not the refresher's JSON matches
// testdata/otel.json and the schema.
func TestEventsJSONGolden(t *testing.T) {
	goldenAt := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
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
