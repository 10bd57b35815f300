package sandboxtoken

import (
	"encoding/json"
	"fmt"
	"time"
)

// ActionRevoke marks a revoke request; a payload without "action" is a
// refresh (the schedule's input, seed-compatible).
const ActionRevoke = "revoke"

// RevokeRequest asks the refresher to revoke, at GitHub, the tokens held in
// some of one sandbox's token parameters. km apply and km destroy send it
// synchronously (RequestResponse) when they retire a token. It never carries
// a token: the refresher reads the values itself.
type RevokeRequest struct {
	Action     string        `json:"action"` // ActionRevoke
	SandboxID  string        `json:"sandbox_id"`
	Prefix     string        `json:"prefix"`
	Parameters []RevokeParam `json:"parameters"`
}

// RevokeParam is one parameter whose versions are revoked.
type RevokeParam struct {
	Name string `json:"name"`
	// BelowVersion limits the revocation to versions below it (0: every
	// version). After an overwrite km apply passes the new version, so the
	// token it just stored stays valid.
	BelowVersion int64 `json:"below_version,omitempty"`
	// BeforeOverwrite is the request km apply sends just before it
	// overwrites the parameter. Where the parameter's history is readable
	// the refresher does nothing then (the request after the write revokes
	// the old versions from the history); where it is not (an endpoint
	// without GetParameterHistory) this is the last moment the current
	// token can be read, so it is revoked now.
	BeforeOverwrite bool `json:"before_overwrite,omitempty"`
}

// Revoke outcomes, one per token version.
const (
	OutcomeRevoked    = "revoked"      // GitHub accepted DELETE /installation/token
	OutcomeDead       = "already_dead" // GitHub answered 401: expired or revoked before
	OutcomeExpired    = "expired"      // the metadata says it expired: no call made
	OutcomeFailed     = "failed"       // GitHub or SSM failed: still valid until it expires
	OutcomeUnreadable = "unreadable"   // not readable (no history): still valid until it expires
	OutcomeDeferred   = "deferred"     // BeforeOverwrite with a readable history: nothing to do yet
	OutcomeMissing    = "missing"      // the parameter does not exist
)

// RevokeResult is the refresher's answer: hashes and outcomes, never tokens.
type RevokeResult struct {
	SandboxID string          `json:"sandbox_id"`
	History   bool            `json:"history"` // GetParameterHistory was readable
	Revoked   []RevokeOutcome `json:"revoked"`
}

// RevokeOutcome is what happened to one version (or, for unreadable
// versions, a range of them: FromVersion..Version).
type RevokeOutcome struct {
	Parameter   string    `json:"parameter"`
	Version     int64     `json:"version"`
	FromVersion int64     `json:"from_version,omitempty"`
	TokenSHA    string    `json:"token_sha,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"` // exact, or (unreadable) the latest it can expire
	Outcome     string    `json:"outcome"`
	Error       string    `json:"error,omitempty"`
}

// Live reports whether the token may still work: it was neither revoked
// nor found dead or expired.
func (o RevokeOutcome) Live() bool {
	return o.Outcome == OutcomeFailed || o.Outcome == OutcomeUnreadable
}

// ActionOf returns the payload's "action" ("" for a refresh).
func ActionOf(b []byte) string {
	var a struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal(b, &a) // not JSON: a refresh, whose decoder reports it
	return a.Action
}

// DecodeRevoke parses a revoke request.
func DecodeRevoke(b []byte) (RevokeRequest, error) {
	var r RevokeRequest
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("revoke request is not valid JSON: %w", err)
	}
	if r.Action != ActionRevoke {
		return r, fmt.Errorf("revoke request has action %q, want %q", r.Action, ActionRevoke)
	}
	if r.SandboxID == "" {
		return r, fmt.Errorf("revoke request has no sandbox_id")
	}
	if len(r.Parameters) == 0 {
		return r, fmt.Errorf("revoke request for %s names no parameters", r.SandboxID)
	}
	return r, nil
}
