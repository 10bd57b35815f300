package sandboxes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/reconcile"
)

// ListFormatVersion is the format_version of km list --format json
// (docs/read-json.md, docs/list-json.schema.json): a new field bumps the
// minor version, a removed or re-typed one the major version.
const ListFormatVersion = "1.1"

// The status values of km list (SandboxStatus.Status), a stable enum: the
// plan's statuses from reconcile, and destroyed.
const (
	StatusOK       = reconcile.StatusOK
	StatusMissing  = reconcile.StatusMissing
	StatusExpired  = reconcile.StatusExpired
	StatusDrifted  = reconcile.StatusDrifted
	StatusOrphaned = reconcile.StatusOrphaned
	// StatusDestroyed: gone from km.yaml and AWS, but a token it held was
	// retired without being revoked and has not expired yet.
	StatusDestroyed = "destroyed"
)

// ListStatuses returns every status km list reports.
func ListStatuses() []string {
	return []string{StatusOK, StatusMissing, StatusExpired, StatusDrifted, StatusOrphaned, StatusDestroyed}
}

// ListReport is what km list --format json prints.
type ListReport struct {
	Prefix      string
	GeneratedAt time.Time
	Sandboxes   []SandboxStatus
}

// Report runs List and stamps the report with the time it was made (km list
// --format json).
func Report(ctx context.Context, s *planapply.Session) (ListReport, error) {
	rows, err := List(ctx, s)
	if err != nil {
		return ListReport{}, err
	}
	now := time.Now()
	if s.Env.Now != nil {
		now = s.Env.Now()
	}
	return ListReport{Prefix: s.Config.Prefix, GeneratedAt: now, Sandboxes: rows}, nil
}

type listDoc struct {
	FormatVersion string       `json:"format_version"`
	GeneratedAt   string       `json:"generated_at"`
	Prefix        string       `json:"prefix"`
	Sandboxes     []listSandbx `json:"sandboxes"`
}

type listSandbx struct {
	ID              string   `json:"id"`
	Status          string   `json:"status"`
	Declared        bool     `json:"declared"`
	Profile         *string  `json:"profile"`
	Owners          []string `json:"owners"`
	TokenMintedAt   *string  `json:"token_minted_at"`
	TokenExpiresAt  *string  `json:"token_expires_at"`
	TokenAgeSeconds *int64   `json:"token_age_seconds"`
	ScheduleState   *string  `json:"schedule_state"`
	// UnrevokedTokens are tokens km retired but could not revoke, until
	// they expire (format 1.1).
	UnrevokedTokens []listUnrevoked `json:"unrevoked_tokens"`
}

type listUnrevoked struct {
	Parameter string  `json:"parameter"`
	TokenSHA  *string `json:"token_sha"`
	ExpiresAt string  `json:"expires_at"`
	Reason    string  `json:"reason"`
}

// WriteListJSON prints the report as one JSON document (docs/read-json.md):
// times in RFC 3339 (UTC), absent values null, status one of ListStatuses.
func WriteListJSON(w io.Writer, r ListReport) error {
	doc := listDoc{
		FormatVersion: ListFormatVersion, GeneratedAt: rfc3339(r.GeneratedAt), Prefix: r.Prefix,
		Sandboxes: make([]listSandbx, 0, len(r.Sandboxes)),
	}
	for _, s := range r.Sandboxes {
		if !knownStatus(s.Status) {
			return fmt.Errorf("km list: sandbox %s has status %q, which is not one of the documented %v (docs/read-json.md): this is a bug in km", s.ID, s.Status, ListStatuses())
		}
		row := listSandbx{
			ID: s.ID, Status: s.Status, Declared: s.Profile != "", Profile: optional(s.Profile),
			Owners: append([]string{}, s.Owners...), ScheduleState: optional(s.ScheduleState),
		}
		row.UnrevokedTokens = make([]listUnrevoked, 0, len(s.Unrevoked))
		for _, u := range s.Unrevoked {
			row.UnrevokedTokens = append(row.UnrevokedTokens, listUnrevoked{
				Parameter: u.Parameter, TokenSHA: optional(u.TokenSHA), ExpiresAt: rfc3339(u.ExpiresAt), Reason: u.Reason,
			})
		}
		if !s.TokenExpires.IsZero() {
			row.TokenExpiresAt = optional(rfc3339(s.TokenExpires))
		}
		if !s.TokenMinted.IsZero() {
			row.TokenMintedAt = optional(rfc3339(s.TokenMinted))
			age := int64(r.GeneratedAt.Sub(s.TokenMinted) / time.Second)
			row.TokenAgeSeconds = &age
		}
		doc.Sandboxes = append(doc.Sandboxes, row)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func knownStatus(s string) bool {
	for _, k := range ListStatuses() {
		if s == k {
			return true
		}
	}
	return false
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
