package sandboxtoken

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// marker starts every description km writes, so foreign descriptions are ignored.
const marker = "km-token "

// maxDescription is SSM's limit on a parameter description.
const maxDescription = 1024

// Meta is what km records about a token (never the token).
type Meta struct {
	Prefix         string    `json:"prefix"` // the km deployment that wrote it
	Owner          string    `json:"owner"`
	InstallationID int64     `json:"installation_id"`
	Scope          string    `json:"scope"` // githubapp.ScopeFingerprint
	Repositories   string    `json:"repositories,omitempty"`
	Permissions    string    `json:"permissions,omitempty"`
	ExpiresAt      time.Time `json:"expires_at"`
	MintedAt       time.Time `json:"minted_at"`
	MintedBy       string    `json:"minted_by"` // "apply" or "refresher"
	TokenSHA       string    `json:"token_sha"` // first 12 hex chars of SHA-256(token), for audit
}

// Encode returns the Description text, within SSM's 1024 characters: a long
// repository list is shortened (the scope fingerprint still identifies it).
func (m Meta) Encode() string {
	for {
		b, _ := json.Marshal(m) // a struct of strings, ints and times cannot fail
		s := marker + string(b)
		if len(s) <= maxDescription || m.Repositories == "" {
			return s
		}
		cut := len(m.Repositories) - (len(s) - maxDescription) - 20
		if cut < 0 {
			cut = 0
		}
		m.Repositories = m.Repositories[:cut] + "…(more)"
		if cut == 0 {
			m.Repositories = "(many)"
		}
	}
}

// Decode parses a Description written by Encode.
func DecodeMeta(desc string) (Meta, error) {
	var m Meta
	if !strings.HasPrefix(desc, marker) {
		return m, fmt.Errorf("description was not written by km")
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(desc, marker)), &m); err != nil {
		return m, fmt.Errorf("token metadata in description: %w", err)
	}
	return m, nil
}

// Expired reports whether the token is expired, or expires within margin, at now.
func (m Meta) Expired(now time.Time, margin time.Duration) bool {
	return !m.ExpiresAt.After(now.Add(margin))
}

// PermString renders permissions as sorted key=value pairs joined with ",",
// as plans, token metadata and the refresher's log events show them.
func PermString(perms map[string]string) string {
	keys := make([]string, 0, len(perms))
	for k := range perms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + perms[k]
	}
	return strings.Join(parts, ",")
}
