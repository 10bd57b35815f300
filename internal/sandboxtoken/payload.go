package sandboxtoken

import (
	"encoding/json"
	"fmt"
	"time"
)

// Payload is one sandbox's refresh request.
type Payload struct {
	SandboxID      string            `json:"sandbox_id"`
	InstallationID int64             `json:"installation_id"`
	AllowedRepos   []string          `json:"allowed_repos"`
	Permissions    map[string]string `json:"permissions"`
	Prefix         string            `json:"prefix"`
	KeyAlias       string            `json:"key_alias"`
	Owners         []Owner           `json:"owners"`
	// Relay is set only on the refresher's own continuation invocations
	// (never by km apply): see the lambda package's relay.go.
	Relay *Relay `json:"relay,omitempty"`
}

// Relay marks a continuation of a refresh that failed while GitHub was
// unavailable: Link counts the invocations so far, Until is when the relay
// stops handing on.
type Relay struct {
	Link  int       `json:"link"`
	Until time.Time `json:"until"`
}

// Owner is one GitHub account's token in a sandbox.
type Owner struct {
	Owner          string            `json:"owner"`
	InstallationID int64             `json:"installation_id"`
	Repositories   []string          `json:"repositories"` // short names; empty = all the installation grants
	Permissions    map[string]string `json:"permissions"`
	Parameter      string            `json:"parameter"`
}

// Encode renders the payload as indented JSON (stable: it is diffed by plan).
func (p Payload) Encode() string {
	b, _ := json.MarshalIndent(p, "", "  ") // plain data: cannot fail
	return string(b)
}

// Decode parses a payload and fills Owners from the seed's single-owner fields
// when a seed-style payload (no owners) arrives.
func DecodePayload(b []byte) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("refresh payload is not valid JSON: %w", err)
	}
	if p.SandboxID == "" {
		return p, fmt.Errorf("refresh payload has no sandbox_id")
	}
	if len(p.Owners) == 0 {
		if p.InstallationID == 0 {
			return p, fmt.Errorf("refresh payload for %s has neither owners nor installation_id", p.SandboxID)
		}
		o := Owner{InstallationID: p.InstallationID, Permissions: p.Permissions,
			Parameter: Param(p.SandboxID, "", true)}
		all := false
		for _, r := range p.AllowedRepos {
			owner, repo := splitRepo(r)
			if o.Owner == "" {
				o.Owner = owner
			}
			if repo == "*" || owner == "*" {
				all = true
			} else {
				o.Repositories = append(o.Repositories, repo)
			}
		}
		if all {
			o.Repositories = nil
		}
		p.Owners = []Owner{o}
	}
	return p, nil
}

func splitRepo(s string) (owner, repo string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:]
		}
	}
	return s, "*"
}
