package profiles

import (
	"fmt"
	"sort"
	"strings"
)

// crossCheck validates what spans files: sandboxes against profiles, and the
// owners of used profiles against the installations.
func (l *loader) crossCheck(cfg *Config) {
	def := cfg.GitHub.DefaultInstallation
	for _, p := range cfg.Profiles {
		p.StarAccount = def
	}
	names := make([]string, 0, len(cfg.Profiles))
	for n := range cfg.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	// No App at all: one error with the seed's two-step fix, not one "missing
	// installation" per owner (which would suggest only the second step).
	noApp := cfg.GitHub.AppClientID == ""
	if noApp && len(cfg.Sandboxes) > 0 && !l.githubBroken && !l.forSetup {
		l.c.add(&Error{Pos: cfg.Sandboxes[0].Pos, Msg: ErrGitHubNotConfigured.Error(), Err: ErrGitHubNotConfigured})
	}
	for i, sb := range cfg.Sandboxes {
		p, ok := cfg.Profiles[sb.Profile]
		if !ok {
			found := "none"
			if len(names) > 0 {
				found = strings.Join(names, ", ")
			}
			note := ""
			if l.unparsable {
				note = " (a profile file has a YAML syntax error, which may be why)"
			}
			l.c.addf(l.sbProfilePos[i], "sandbox %s: profile %s not found in %s; expected the metadata.name of a SandboxProfile there (found: %s)%s%s",
				sb.ID, ShowValue(sb.Profile), l.display(l.profilesDirRaw), found, DidYouMean(sb.Profile, names), note)
			continue
		}
		if l.broken[p.Name] {
			continue
		}
		if !p.HasGitHub {
			l.c.addf(l.sbProfilePos[i], "sandbox %s: profile %s (%s) has no spec.sourceAccess.github; expected allowedRepos so km can scope the sandbox's token",
				sb.ID, ShowValue(p.Name), posString(p.Pos))
			continue
		}
		if noApp || l.forSetup {
			continue
		}
		for j, rp := range p.AllowedRepos {
			owner := rp.Owner
			if owner == "*" {
				if def == "" {
					l.c.addf(sb.Pos, "sandbox %s: profile %s allows \"*\" (%s), which uses the default installation, but km.yaml lists no github.installations; expected at least one installation (km configure github --discover --force)",
						sb.ID, ShowValue(p.Name), posString(p.repoPos[j]))
				}
				continue
			}
			if _, ok := findInstallation(cfg.GitHub.Installations, owner); ok || firstOwnerIndex(p, owner) != j || containsFold(l.badAccounts, owner) {
				continue
			}
			listed := "none"
			if len(cfg.GitHub.Installations) > 0 {
				listed = strings.Join(accounts(cfg.GitHub.Installations), ", ")
			}
			l.c.addf(sb.Pos, "sandbox %s: profile %s needs a GitHub App installation for account %s (from %s at %s), but github.installations lists: %s; install the App on %s, then run km configure github --discover --force",
				sb.ID, ShowValue(p.Name), ShowValue(owner), rp.String(), posString(p.repoPos[j]), listed, owner)
		}
	}
}

// firstOwnerIndex returns the index of the first pattern with this owner, so that
// a missing installation is reported once per owner.
func firstOwnerIndex(p *Profile, owner string) int {
	for i, rp := range p.AllowedRepos {
		if strings.EqualFold(rp.Owner, owner) {
			return i
		}
	}
	return -1
}

func posString(p Pos) string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}
