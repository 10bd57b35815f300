package profiles

import (
	"errors"
	"sort"
	"strings"
)

// ErrGitHubNotConfigured means sandboxes are declared but km.yaml records no GitHub
// App. Its text carries the seed's fix, in order: create the App, then record its
// installations. reconcile re-exports it.
var ErrGitHubNotConfigured = errors.New("ErrGitHubNotConfigured: no GitHub App is configured (github.appClientId and at least one installation in km.yaml); " +
	"fix: run `km github` to create and configure the App, then `km configure github --discover --force` to record its installations")

// GitHubConfigured reports whether km.yaml names the App (appClientId) and at
// least one installation. When it is false the caller reports ErrGitHubNotConfigured.
func (c *Config) GitHubConfigured() bool {
	return c.GitHub.AppClientID != "" && len(c.GitHub.Installations) > 0
}

// ApplyEnv applies KM_GITHUB_API_URL and KM_GITHUB_WEB_URL (trailing slashes
// trimmed) over km.yaml's github.apiURL and github.webURL.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := strings.TrimRight(getenv("KM_GITHUB_API_URL"), "/"); v != "" {
		c.GitHub.APIURL = v
	}
	if v := strings.TrimRight(getenv("KM_GITHUB_WEB_URL"), "/"); v != "" {
		c.GitHub.WebURL = v
	}
}

// InstallationFor returns the installation for owner (case-insensitive). When the
// owner has no entry of its own it falls back to the default installation (the
// returned Account is then the default account, not owner); ok is false only when
// neither exists.
func (c *Config) InstallationFor(owner string) (Installation, bool) {
	if in, ok := findInstallation(c.GitHub.Installations, owner); ok {
		return in, true
	}
	if c.GitHub.DefaultInstallation != "" {
		return findInstallation(c.GitHub.Installations, c.GitHub.DefaultInstallation)
	}
	return Installation{}, false
}

// Profile returns the profile with this metadata.name, or nil.
func (c *Config) Profile(name string) *Profile {
	return c.Profiles[name]
}

// Sandbox returns the sandbox with this id.
func (c *Config) Sandbox(id string) (Sandbox, bool) {
	for _, sb := range c.Sandboxes {
		if sb.ID == id {
			return sb, true
		}
	}
	return Sandbox{}, false
}

// OwnersOf returns p's distinct owners, lowercased, in order of first appearance;
// "*" stands for the default installation's account.
func (c *Config) OwnersOf(p *Profile) []string {
	return owners(p, c.GitHub.DefaultInstallation)
}

// Owners returns the distinct owners of p's allowedRepos, lowercased, in order of
// first appearance; "*" stands for StarAccount (set by Load), or stays "*" when
// StarAccount is empty.
func (p *Profile) Owners() []string {
	return owners(p, p.StarAccount)
}

func owners(p *Profile, star string) []string {
	var out []string
	for _, rp := range p.AllowedRepos {
		o := rp.Owner
		if o == "*" && star != "" {
			o = star
		}
		o = strings.ToLower(o)
		if !contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// ReposFor returns the short names of the repositories p allows under owner
// (case-insensitive), sorted and without (case-insensitive) duplicates, and all=true when owner/* or
// "*" covers every repository of that owner (the token then names no
// repositories). "*" applies to StarAccount, or to every owner when it is empty.
func (p *Profile) ReposFor(owner string) (names []string, all bool) {
	for _, rp := range p.AllowedRepos {
		switch {
		case rp.Owner == "*":
			if p.StarAccount == "" || strings.EqualFold(p.StarAccount, owner) {
				all = true
			}
		case !strings.EqualFold(rp.Owner, owner):
		case rp.Repo == "*":
			all = true
		default:
			if !containsFold(names, rp.Repo) {
				names = append(names, rp.Repo)
			}
		}
	}
	sort.Strings(names)
	return names, all
}

// CanPush reports whether the profile grants push.
func (p *Profile) CanPush() bool { return contains(p.Permissions, PermPush) }

// ContentsPermission is the GitHub contents permission: "write" with push, else "read".
func (p *Profile) ContentsPermission() string {
	if p.CanPush() {
		return "write"
	}
	return "read"
}

// GitHubPermissions is the permissions object of the token request.
func (p *Profile) GitHubPermissions() map[string]string {
	return map[string]string{"contents": p.ContentsPermission(), "metadata": "read"}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
