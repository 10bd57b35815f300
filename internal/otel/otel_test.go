package otel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
