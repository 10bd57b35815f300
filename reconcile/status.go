package reconcile

import (
	"strings"

	"github.com/klankermaker/km/internal/sandboxtoken"
)

// The statuses a plan gives a sandbox (km list's status column; km list adds
// "destroyed" from the records of unrevoked tokens, which no plan shows).
const (
	StatusOK       = "ok"       // declared, and AWS matches the declaration
	StatusMissing  = "missing"  // declared, not created yet (no key): km apply creates it
	StatusExpired  = "expired"  // a token has expired and was not refreshed
	StatusDrifted  = "drifted"  // declared, and km plan would change something of it
	StatusOrphaned = "orphaned" // found in AWS, not declared: km apply removes it
)

// reasonTokenExpired starts the reason of a token re-minted because it expired.
const reasonTokenExpired = "token expired"

// TokenExpired reports whether c re-mints a token because it expired.
func TokenExpired(c *Change) bool {
	return c.Type == TypeToken && strings.HasPrefix(c.Reason, reasonTokenExpired)
}

// FoldSandboxStatus folds one planned change of a sandbox into the status
// found so far (start from StatusOK): an undeclared sandbox is orphaned;
// otherwise the first change decides (expired token, missing key, else
// drifted).
func FoldSandboxStatus(status string, c *Change, declared bool) string {
	switch {
	case !declared:
		return StatusOrphaned
	case status != StatusOK:
		return status
	case TokenExpired(c):
		return StatusExpired
	case c.Action == Create && c.Type == TypeKey:
		return StatusMissing
	}
	return StatusDrifted
}

// LiveTokenMeta returns the metadata read from a live token parameter's
// description (never the token).
func LiveTokenMeta(l *Resource) (sandboxtoken.Meta, bool) {
	if l.Type != TypeToken {
		return sandboxtoken.Meta{}, false
	}
	m, ok := l.Extra.(sandboxtoken.Meta)
	return m, ok
}

// ResourceTypes returns the type of every resource kind km plans, in
// dependency order.
func ResourceTypes() []string {
	var out []string
	for _, k := range kinds() {
		out = append(out, k.Type())
	}
	return out
}
