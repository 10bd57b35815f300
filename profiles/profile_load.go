package profiles

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// loadProfiles reads every *.yaml / *.yml file (not hidden, not recursive) in
// profilesDir. A profilesDir that was never set and does not exist holds no profiles.
func (l *loader) loadProfiles(cfg *Config) {
	if cfg.ProfilesDir == "" {
		return
	}
	shownDir := l.display(l.profilesDirRaw)
	entries, err := os.ReadDir(cfg.ProfilesDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !l.profilesDirSet {
			return
		}
		l.c.addf(l.profilesDirPos, "profilesDir: cannot read %s: %v; expected a folder of SandboxProfile .yaml files, relative to km.yaml", shownDir, osReason(err))
		return
	}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		abs := filepath.Join(cfg.ProfilesDir, name)
		if st, err := os.Stat(abs); err == nil && st.IsDir() {
			continue
		}
		l.loadProfileFile(cfg, abs, filepath.Join(shownDir, name))
	}
}

func (l *loader) loadProfileFile(cfg *Config, abs, shown string) {
	d := &decoder{c: l.c, file: shown}
	l.c.seeFile(shown)
	data, err := os.ReadFile(abs)
	if err != nil {
		l.c.addf(Pos{File: shown}, "cannot read profile: %v", osReason(err))
		return
	}
	before := len(l.c.list)
	docs := l.parse(d, data)
	if docs == nil && len(l.c.list) > before {
		l.unparsable = true
	}
	if len(docs) == 0 && len(l.c.list) == before {
		l.c.addf(Pos{File: shown, Line: 1, Col: 1}, "the file holds no YAML document; expected a SandboxProfile (apiVersion: %s, kind: %s) — profilesDir holds only profiles", APIVersion, Kind)
	}
	for _, doc := range docs {
		l.decodeProfile(d, doc, cfg, abs, data)
	}
}

var profileGitHubKeys = []string{"allowedRepos", "allowedRefs", "permissions", "allowedEndpoints"}

// Non-repository GitHub API endpoints a profile may open to km proxy with
// spec.sourceAccess.github.allowedEndpoints (all closed by default).
const (
	EndpointGraphQL = "graphql" // POST /graphql (GHES: /api/graphql)
	EndpointSearch  = "search"  // /search/...
	EndpointUser    = "user"    // /user and /user/... (the token's own listings, e.g. /user/repos)
	EndpointGists   = "gists"   // /gists/...
	EndpointOrgs    = "orgs"    // /orgs/... and /users/... listings
)

// KnownEndpoints lists the values allowedEndpoints accepts (a fresh slice).
func KnownEndpoints() []string {
	return []string{EndpointGraphQL, EndpointSearch, EndpointUser, EndpointGists, EndpointOrgs}
}

// Values of spec.network.enforcement.
const (
	// EnforcementHook: the pre-push hook only (client-side, bypassable); the default.
	EnforcementHook = "hook"
	// EnforcementProxy: the sandbox's GitHub traffic goes through km proxy, which
	// enforces allowedRepos and allowedRefs on the wire; km sandbox init then
	// requires --proxy.
	EnforcementProxy = "proxy"
)

var knownEnforcements = []string{EnforcementHook, EnforcementProxy}

// decodeProfile reads one SandboxProfile document. Only spec.sourceAccess.github is
// strict; other keys belong to other parts of the platform and are ignored.
func (l *loader) decodeProfile(d *decoder, root *yaml.Node, cfg *Config, abs string, raw []byte) {
	root = ResolveNode(root)
	if root.Kind != yaml.MappingNode {
		d.wrongType(root, "profile", "a SandboxProfile mapping (apiVersion, kind, metadata, spec)")
		return
	}
	before := len(l.c.list)
	f := d.fields(root, "profile", nil)
	av, ok := f["apiVersion"]
	if !ok {
		d.errf(root, "profile has no apiVersion; expected apiVersion: %s", APIVersion)
		return
	}
	if s, ok := d.scalarText(av.val, "apiVersion", APIVersion); ok && s != APIVersion {
		d.errf(av.val, "apiVersion %s is not supported; expected %s", ShowValue(s), APIVersion)
		return
	} else if !ok {
		return
	}
	kv, ok := f["kind"]
	if !ok {
		d.errf(root, "profile has no kind; expected kind: %s", Kind)
		return
	}
	if s, ok := d.scalarText(kv.val, "kind", Kind); ok && s != Kind {
		d.errf(kv.val, "kind %s is not a SandboxProfile; expected kind: %s (profilesDir holds only SandboxProfile documents)%s", ShowValue(s), Kind, DidYouMean(s, []string{Kind}))
		return
	} else if !ok {
		return
	}
	p := &Profile{File: abs, raw: raw, Permissions: []string{PermClone, PermFetch}, Enforcement: EnforcementHook}
	mv, ok := f["metadata"]
	if !ok {
		d.errf(root, "profile has no metadata; expected metadata: {name: NAME}")
	} else if d.isMapping(mv.val, "metadata") {
		mf := d.fields(mv.val, "metadata", nil)
		if nv, ok := mf["name"]; !ok {
			d.errf(ResolveNode(mv.val), "metadata has no name; expected metadata.name, the name sandboxes use to refer to this profile")
		} else if s, ok := d.str(nv.val, "metadata.name", "the profile's name"); ok {
			if err := CheckProfileName(s); err != nil {
				d.errf(nv.val, "%v", err)
			} else {
				p.Name = s
				p.Pos = d.pos(ResolveNode(nv.val))
			}
		} else if IsNullNode(nv.val) {
			d.errf(nv.val, "metadata.name is empty; expected the profile's name")
		}
	} else if IsNullNode(mv.val) {
		d.errf(mv.val, "metadata is empty; expected metadata: {name: NAME}")
	}
	if sv, ok := f["spec"]; ok && d.isMapping(sv.val, "spec") {
		sf := d.fields(sv.val, "spec", nil)
		if nv, ok := sf["network"]; ok {
			decodeNetwork(d, nv, p)
		}
		if sa, ok := sf["sourceAccess"]; ok && d.isMapping(sa.val, "spec.sourceAccess") {
			saf := d.fields(sa.val, "spec.sourceAccess", nil)
			if gh, ok := saf["github"]; ok {
				l.decodeSourceGitHub(d, gh, p)
			}
		}
	}
	if p.Name == "" {
		return
	}
	if prev, dup := cfg.Profiles[p.Name]; dup {
		l.c.addf(p.Pos, "duplicate profile name %s (also in %s); expected every metadata.name once", ShowValue(p.Name), posString(prev.Pos))
		return
	}
	cfg.Profiles[p.Name] = p
	if len(l.c.list) > before {
		l.broken[p.Name] = true
	}
}

func (l *loader) decodeSourceGitHub(d *decoder, gh field, p *Profile) {
	const section = "spec.sourceAccess.github"
	if !d.isMapping(gh.val, section) {
		if IsNullNode(gh.val) {
			d.errf(gh.key, "%s is empty; expected allowedRepos and optionally allowedRefs and permissions", section)
		}
		return
	}
	p.HasGitHub = true
	f := d.fields(gh.val, section, profileGitHubKeys)
	const repoExpected = `a list of owner/repo, owner/* or "*"`
	if v, ok := f["allowedRepos"]; !ok {
		d.errf(gh.key, "%s has no allowedRepos; expected %s", section, repoExpected)
	} else if items, ok := d.list(v.val, section+".allowedRepos", repoExpected); ok {
		if len(items) == 0 {
			d.errf(ResolveNode(v.val), "%s.allowedRepos is empty; expected %s", section, repoExpected)
		}
		for _, it := range items {
			s, ok := d.str(it, section+".allowedRepos entry", `owner/repo, owner/* or "*"`)
			if !ok {
				if IsNullNode(it) {
					d.errf(it, "%s.allowedRepos entry is empty; expected owner/repo, owner/* or \"*\"", section)
				}
				continue
			}
			rp, err := ParseRepoPattern(s)
			if err != nil {
				d.errf(it, "%v", err)
				continue
			}
			p.AllowedRepos = append(p.AllowedRepos, rp)
			p.repoPos = append(p.repoPos, d.pos(it))
		}
	}
	if v, ok := f["allowedRefs"]; ok {
		if items, ok := d.list(v.val, section+".allowedRefs", "a list of ref patterns like main or release/*"); ok {
			for _, it := range items {
				s, ok := d.scalarText(it, section+".allowedRefs entry", "a ref pattern like main or release/*")
				if !ok {
					continue
				}
				if err := ValidateRefPattern(s); err != nil {
					d.errf(it, "%s.allowedRefs: %v", section, err)
					continue
				}
				p.AllowedRefs = append(p.AllowedRefs, s)
			}
		}
	}
	if v, ok := f["allowedEndpoints"]; ok {
		decodeEndpoints(d, v, p)
	}
	if v, ok := f["permissions"]; ok {
		const permExpected = "a list of clone, fetch, push"
		if items, ok := d.list(v.val, section+".permissions", permExpected); ok {
			if len(items) == 0 {
				d.errf(ResolveNode(v.val), "%s.permissions is empty; expected %s (leave it out for clone, fetch)", section, permExpected)
			}
			var perms []string
			for _, it := range items {
				s, ok := d.str(it, section+".permissions entry", "clone, fetch or push")
				if !ok {
					if IsNullNode(it) {
						d.errf(it, "%s.permissions entry is empty; expected clone, fetch or push", section)
					}
					continue
				}
				if !contains(knownPermissions, s) {
					d.errf(it, "%s.permissions: unknown permission %s; expected clone, fetch or push%s", section, ShowValue(s), DidYouMean(s, knownPermissions))
					continue
				}
				if !contains(perms, s) {
					perms = append(perms, s)
				}
			}
			if len(perms) > 0 {
				p.Permissions = perms
			}
		}
	}
}

// decodeNetwork reads spec.network.enforcement; the section's other keys belong
// to other parts of the platform and are ignored (a non-mapping network is left
// to them too).
func decodeNetwork(d *decoder, nv field, p *Profile) {
	n := ResolveNode(nv.val)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	f := d.fields(n, "spec.network", nil)
	ev, ok := f["enforcement"]
	if !ok {
		return
	}
	const expected = "hook (the pre-push hook only, the default) or proxy (km proxy enforces allowedRepos and allowedRefs on the wire)"
	s, ok := d.str(ev.val, "spec.network.enforcement", expected)
	if !ok {
		if IsNullNode(ev.val) {
			d.errf(ev.val, "spec.network.enforcement is empty; expected %s", expected)
		}
		return
	}
	if !contains(knownEnforcements, s) {
		d.errf(ev.val, "spec.network.enforcement: unknown value %s; expected %s%s", ShowValue(s), expected, DidYouMean(s, knownEnforcements))
		return
	}
	p.Enforcement = s
}

// decodeEndpoints reads spec.sourceAccess.github.allowedEndpoints.
func decodeEndpoints(d *decoder, v field, p *Profile) {
	const section = "spec.sourceAccess.github.allowedEndpoints"
	known := KnownEndpoints()
	expected := "a list of " + strings.Join(known, ", ")
	items, ok := d.list(v.val, section, expected)
	if !ok {
		return
	}
	for _, it := range items {
		s, ok := d.str(it, section+" entry", "one of "+strings.Join(known, ", "))
		if !ok {
			if IsNullNode(it) {
				d.errf(it, "%s entry is empty; expected one of %s", section, strings.Join(known, ", "))
			}
			continue
		}
		if !contains(known, s) {
			d.errf(it, "%s: unknown endpoint %s; expected one of %s%s", section, ShowValue(s), strings.Join(known, ", "), DidYouMean(s, known))
			continue
		}
		if !contains(p.AllowedEndpoints, s) {
			p.AllowedEndpoints = append(p.AllowedEndpoints, s)
		}
	}
}
