// Package names derives the AWS resource names km manages from the prefix and
// the sandbox id: configuration and state parameters, key aliases, schedules,
// the refresher's function, roles and log group, and km's tag keys. The token
// parameters under /sandbox/ belong to internal/sandboxtoken. It imports
// nothing from km and nothing from AWS.
package names

import (
	"errors"
	"fmt"
	"strings"
)

// Names derives resource names for one prefix (default "km").
type Names struct{ Prefix string }

// New returns Names for prefix, defaulting to "km".
func New(prefix string) Names {
	if prefix == "" {
		prefix = "km"
	}
	return Names{Prefix: prefix}
}

// ConfigPath is the SSM path holding the App configuration.
func (n Names) ConfigPath() string { return "/" + n.Prefix + "/config/github" }

// AppClientIDParam is the SSM String holding the App's client id.
func (n Names) AppClientIDParam() string { return n.ConfigPath() + "/app-client-id" }

// PrivateKeyParam is the SSM SecureString holding the App's PEM.
func (n Names) PrivateKeyParam() string { return n.ConfigPath() + "/private-key" }

// InstallationParam is the per-account installation id parameter.
func (n Names) InstallationParam(account string) string {
	return n.ConfigPath() + "/installations/" + strings.ToLower(account)
}

// InstallationsPath is the folder of per-account installation parameters.
func (n Names) InstallationsPath() string { return n.ConfigPath() + "/installations" }

// LegacyInstallationParam is the single installation id parameter of km's
// first, single-account layout.
func (n Names) LegacyInstallationParam() string { return n.ConfigPath() + "/installation-id" }

// LockParam is the state lock parameter.
func (n Names) LockParam() string { return "/" + n.Prefix + "/state/lock" }

// KeyAlias is the KMS alias of a sandbox's key.
func (n Names) KeyAlias(sandboxID string) string {
	return "alias/" + n.Prefix + "-github-token-" + sandboxID
}

// KeyAliasPrefix is the prefix shared by every sandbox key alias.
func (n Names) KeyAliasPrefix() string { return "alias/" + n.Prefix + "-github-token-" }

// ScheduleGroup is the Scheduler group of the refresh schedules.
func (n Names) ScheduleGroup() string { return n.Prefix + "-github-token-refresh" }

// Schedule is a sandbox's refresh schedule name.
func (n Names) Schedule(sandboxID string) string { return n.Prefix + "-github-token-" + sandboxID }

// SchedulePrefix is the prefix shared by every refresh schedule.
func (n Names) SchedulePrefix() string { return n.Prefix + "-github-token-" }

// Function is the refresher Lambda's name.
func (n Names) Function() string { return n.Prefix + "-github-token-refresher" }

// RefresherRole is the refresher Lambda's execution role.
func (n Names) RefresherRole() string { return n.Prefix + "-github-token-refresher" }

// SchedulerRole is the role EventBridge Scheduler assumes to invoke the refresher.
func (n Names) SchedulerRole() string { return n.Prefix + "-github-token-scheduler" }

// LogGroup is the refresher's log group.
func (n Names) LogGroup() string { return "/aws/lambda/" + n.Function() }

// Tag keys km puts on what it creates.
const (
	TagManaged = "km:managed"
	TagSandbox = "km:sandbox"
	TagPrefix  = "km:prefix"
)

// sandboxIDMax is the longest sandbox id any prefix allows (KMS alias and SSM
// names fit; the schedule name limit is checked with the prefix).
const sandboxIDMax = 63

// scheduleNameMax is EventBridge Scheduler's limit on schedule names.
const scheduleNameMax = 64

// CheckSandboxID reports whether id can be a sandbox id for this prefix: the
// declaration's rule (profiles.CheckSandboxID says it with file:line:col),
// kept here too so that the refresher, which must not import profiles,
// refuses the same ids. A path-like id ("../x", "a/b") never passes.
func (n Names) CheckSandboxID(id string) error {
	if id == "" {
		return errors.New("the sandbox id is empty")
	}
	for i, r := range id {
		ok := r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return fmt.Errorf("sandbox id %q is malformed: expected lowercase letters, digits and hyphens, starting with a letter", id)
		}
	}
	if len(id) > sandboxIDMax {
		return fmt.Errorf("sandbox id %q is %d characters; at most %d are allowed", id, len(id), sandboxIDMax)
	}
	if l := len(n.Schedule(id)); l > scheduleNameMax {
		return fmt.Errorf("sandbox id %q makes the schedule name %d characters; EventBridge Scheduler allows %d", id, l, scheduleNameMax)
	}
	return nil
}

// UnrevokedPath is the SSM folder of the records of tokens km retired but
// could not revoke (String parameters: hash and expiry, never a token).
func (n Names) UnrevokedPath() string { return "/" + n.Prefix + "/state/unrevoked" }
