package otel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/state"
)

// The refresher's log messages (km doctor counts the failures).
const (
	MsgRefreshed = "token_refreshed"
	MsgFailed    = "token_refresh_failed"
)

// FailurePattern is a CloudWatch Logs term pattern for refresh failures. A
// quoted term, not a JSON pattern: it works in AWS and in emulators alike.
const FailurePattern = `"` + MsgFailed + `"`

// Event is one line the refresher logged about a sandbox.
type Event struct {
	Time           time.Time       `json:"time"`
	Msg            string          `json:"msg"`
	Level          string          `json:"level,omitempty"`
	SandboxID      string          `json:"sandbox_id,omitempty"`
	Owner          string          `json:"owner,omitempty"`
	InstallationID int64           `json:"installation_id,omitempty"`
	Repositories   json.RawMessage `json:"repositories,omitempty"`
	Permissions    json.RawMessage `json:"permissions,omitempty"`
	ExpiresAt      string          `json:"expires_at,omitempty"`
	TokenSHA       string          `json:"token_sha,omitempty"`
	Error          string          `json:"error,omitempty"`
	Parameter      string          `json:"parameter,omitempty"`
	// Raw is the log line when it is not the refresher's JSON.
	Raw string `json:"raw,omitempty"`
}

// EventsOptions are km otel's flags.
type EventsOptions struct {
	SandboxID string
	Since     time.Duration // default 1h
}

// EventLog is what km otel read: one sandbox's events in a time window.
type EventLog struct {
	SandboxID string
	From, To  time.Time
	Events    []Event
}

// Events returns the refresher's events for one sandbox, oldest first (newest
// last), read from /aws/lambda/{prefix}-github-token-refresher with a term
// pattern (the sandbox id in double quotes) and then checked field by field.
func Events(ctx context.Context, e planapply.Env, o EventsOptions) ([]Event, error) {
	l, err := ReadEvents(ctx, e, o)
	return l.Events, err
}

// ReadEvents is Events with the window it read.
func ReadEvents(ctx context.Context, e planapply.Env, o EventsOptions) (EventLog, error) {
	l := EventLog{SandboxID: o.SandboxID}
	if o.SandboxID == "" || strings.ContainsAny(o.SandboxID, "\" \t\r\n") {
		return l, fmt.Errorf("sandbox id %q: expected an id like sb-7f3a9c", o.SandboxID)
	}
	if o.Since <= 0 {
		o.Since = time.Hour
	}
	cfg, err := planapply.LoadConfig(e)
	if err != nil {
		return l, err
	}
	aws, err := e.Connect(ctx, cfg)
	if err != nil {
		return l, err
	}
	group := names.New(cfg.Prefix).LogGroup()
	now := e.Clock()()
	l.From, l.To = now.Add(-o.Since), now
	raw, err := aws.FilterLogEvents(ctx, group, `"`+o.SandboxID+`"`, l.From, l.To)
	if err != nil {
		if state.IsNotFound(err) {
			return l, fmt.Errorf("the refresher's log group %s does not exist: run `km apply` to deploy the refresher: %w", group, err)
		}
		return l, fmt.Errorf("reading the refresher's events for %s from %s: %w", o.SandboxID, group, err)
	}
	for _, le := range raw {
		ev := ParseEvent(le)
		if ev.Raw == "" && ev.SandboxID != o.SandboxID {
			continue // the id appeared in another field
		}
		if ev.Raw != "" && !strings.Contains(ev.Raw, o.SandboxID) {
			continue
		}
		l.Events = append(l.Events, ev)
	}
	return l, nil
}

// ParseEvent reads one refresher log line (JSON, as slog's JSON handler writes
// it; a Lambda platform prefix before the JSON is skipped).
func ParseEvent(le state.LogEvent) Event {
	ev := Event{Time: le.Time}
	msg := strings.TrimSpace(le.Message)
	if i := strings.IndexByte(msg, '{'); i >= 0 {
		var m struct {
			Time           string          `json:"time"`
			Msg            string          `json:"msg"`
			Level          string          `json:"level"`
			SandboxID      string          `json:"sandbox_id"`
			Owner          string          `json:"owner"`
			InstallationID json.RawMessage `json:"installation_id"`
			Repositories   json.RawMessage `json:"repositories"`
			Permissions    json.RawMessage `json:"permissions"`
			ExpiresAt      string          `json:"expires_at"`
			TokenSHA       string          `json:"token_sha"`
			Error          string          `json:"error"`
			Parameter      string          `json:"parameter"`
		}
		if json.Unmarshal([]byte(msg[i:]), &m) == nil && m.Msg != "" {
			ev.Msg, ev.Level, ev.SandboxID, ev.Owner = m.Msg, m.Level, m.SandboxID, m.Owner
			ev.Repositories, ev.Permissions = m.Repositories, m.Permissions
			ev.ExpiresAt, ev.TokenSHA, ev.Error, ev.Parameter = m.ExpiresAt, m.TokenSHA, m.Error, m.Parameter
			ev.InstallationID, _ = strconv.ParseInt(strings.Trim(string(m.InstallationID), `"`), 10, 64)
			if t, err := time.Parse(time.RFC3339Nano, m.Time); err == nil {
				ev.Time = t.UTC()
			}
			return ev
		}
	}
	ev.Raw = msg
	return ev
}

// WriteEventsText prints one line per event, newest last.
func WriteEventsText(w io.Writer, sandbox string, since time.Duration, evs []Event) error {
	if len(evs) == 0 {
		_, err := fmt.Fprintf(w, "No refresher events for %s in the last %s.\n", sandbox, since)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, ev := range evs {
		ts := ev.Time.UTC().Format(time.RFC3339)
		if ev.Raw != "" {
			fmt.Fprintf(tw, "%s\t%s\n", ts, ev.Raw)
			continue
		}
		var b strings.Builder
		if ev.Owner != "" {
			fmt.Fprintf(&b, "owner=%s ", ev.Owner)
		}
		if ev.InstallationID != 0 {
			fmt.Fprintf(&b, "installation=%d ", ev.InstallationID)
		}
		if len(ev.Repositories) > 0 && string(ev.Repositories) != "null" {
			fmt.Fprintf(&b, "repositories=%s ", compact(ev.Repositories))
		}
		if len(ev.Permissions) > 0 && string(ev.Permissions) != "null" {
			fmt.Fprintf(&b, "permissions=%s ", compact(ev.Permissions))
		}
		if ev.ExpiresAt != "" {
			fmt.Fprintf(&b, "expires_at=%s ", ev.ExpiresAt)
		}
		if ev.TokenSHA != "" {
			fmt.Fprintf(&b, "token_sha=%s ", ev.TokenSHA)
		}
		if ev.Error != "" {
			fmt.Fprintf(&b, "error=%q", ev.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ts, ev.Msg, strings.TrimSpace(b.String()))
	}
	return tw.Flush()
}

// EventsFormatVersion is the format_version of km otel --events --format json
// (docs/read-json.md, docs/otel-json.schema.json): a new field bumps the minor
// version, a removed or re-typed one the major version.
const EventsFormatVersion = "1.0"

// The outcome of an event, a stable enum.
const (
	OutcomeRefreshed = "refreshed" // msg token_refreshed: a token was minted and stored
	OutcomeFailed    = "failed"    // msg token_refresh_failed: see error
	OutcomeOther     = "other"     // any other line that names the sandbox
)

// Outcomes returns every outcome, the stable enum of the JSON output.
func Outcomes() []string { return []string{OutcomeRefreshed, OutcomeFailed, OutcomeOther} }

type eventsDoc struct {
	FormatVersion string      `json:"format_version"`
	SandboxID     string      `json:"sandbox_id"`
	From          string      `json:"from"`
	To            string      `json:"to"`
	Events        []eventJSON `json:"events"`
}

type eventJSON struct {
	Time           string            `json:"time"`
	Outcome        string            `json:"outcome"`
	Msg            *string           `json:"msg"`
	Level          *string           `json:"level"`
	Owner          *string           `json:"owner"`
	InstallationID *int64            `json:"installation_id"`
	Parameter      *string           `json:"parameter"`
	Repositories   []string          `json:"repositories"`
	Permissions    map[string]string `json:"permissions"`
	ExpiresAt      *string           `json:"expires_at"`
	TokenSHA       *string           `json:"token_sha"`
	Error          *string           `json:"error"`
	Raw            *string           `json:"raw"`
}

// WriteEventsJSON prints the events as one JSON document (docs/read-json.md):
// times in RFC 3339 (UTC), absent values null, outcome refreshed, failed or
// other, repositories a list (["*"]: every repository of the installation)
// and permissions an object.
func WriteEventsJSON(w io.Writer, l EventLog) error {
	doc := eventsDoc{
		FormatVersion: EventsFormatVersion, SandboxID: l.SandboxID,
		From: l.From.UTC().Format(time.RFC3339Nano), To: l.To.UTC().Format(time.RFC3339Nano),
		Events: make([]eventJSON, 0, len(l.Events)),
	}
	for _, ev := range l.Events {
		j := eventJSON{
			Time: ev.Time.UTC().Format(time.RFC3339Nano), Outcome: OutcomeOther,
			Msg: opt(ev.Msg), Level: opt(ev.Level), Owner: opt(ev.Owner), Parameter: opt(ev.Parameter),
			Repositories: repoList(ev.Repositories), Permissions: permMap(ev.Permissions),
			TokenSHA: opt(ev.TokenSHA), Error: opt(ev.Error), Raw: opt(ev.Raw),
		}
		switch ev.Msg {
		case MsgRefreshed:
			j.Outcome = OutcomeRefreshed
		case MsgFailed:
			j.Outcome = OutcomeFailed
		}
		if ev.InstallationID != 0 {
			id := ev.InstallationID
			j.InstallationID = &id
		}
		if ev.ExpiresAt != "" {
			v := ev.ExpiresAt
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				v = t.UTC().Format(time.RFC3339Nano)
			}
			j.ExpiresAt = &v
		}
		doc.Events = append(doc.Events, j)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// repoList reads the logged repositories: "a,b" or "*" as the refresher
// logs them, or a JSON list.
func repoList(r json.RawMessage) []string {
	var list []string
	if json.Unmarshal(r, &list) == nil && list != nil {
		return list
	}
	var s string
	if json.Unmarshal(r, &s) != nil || s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// permMap reads the logged permissions: "contents=write,metadata=read" as
// the refresher logs them, or a JSON object.
func permMap(r json.RawMessage) map[string]string {
	var m map[string]string
	if json.Unmarshal(r, &m) == nil && m != nil {
		return m
	}
	var s string
	if json.Unmarshal(r, &s) != nil || s == "" {
		return nil
	}
	m = map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func compact(r json.RawMessage) string {
	var v any
	if json.Unmarshal(r, &v) != nil {
		return string(r)
	}
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}
