// Package names derives every AWS resource name km manages from the prefix, the
// sandbox id and the owner. It is the single place those conventions live; it
// imports nothing from km and nothing from AWS.
package names

import "strings"

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

// LegacyInstallationParam is the seed's single installation id parameter.
func (n Names) LegacyInstallationParam() string { return n.ConfigPath() + "/installation-id" }

// LockParam is the state lock parameter.
func (n Names) LockParam() string { return "/" + n.Prefix + "/state/lock" }

// SandboxPath is the SSM folder of all sandboxes' parameters.
func SandboxPath() string { return "/sandbox" }

// TokenParam is the token parameter of a sandbox for owner. The first owner's
// token (first == true) lives at the seed's name /sandbox/{id}/github-token;
// every other owner's at /sandbox/{id}/github-token-{owner}.
func TokenParam(sandboxID, owner string, first bool) string {
	if first {
		return "/sandbox/" + sandboxID + "/github-token"
	}
	return "/sandbox/" + sandboxID + "/github-token-" + strings.ToLower(owner)
}

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
