package reconcile

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/profiles"
)

// ErrGitHubNotConfigured means sandboxes are declared but no GitHub App is
// (defined in profiles, which reports it while loading).
var ErrGitHubNotConfigured = profiles.ErrGitHubNotConfigured

// ref is a reference to another resource's attribute, resolved at plan time from
// live state and at apply time from what was applied.
func ref(addr, attr string) string { return "${" + addr + "." + attr + "}" }

// ZipSHA256 is the Lambda CodeSha256 of a zip: base64 of the raw SHA-256 digest.
func ZipSHA256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// decl is what each kind builds its desired resources from: the
// loaded km.yaml, the runtime's names, and what several kinds derive from it
// (checked once, before any kind builds anything).
type decl struct {
	cfg *profiles.Config
	rt  *Runtime
	pe  policyEnv
	// keyFingerprint is the App private key's fingerprint ("" without one).
	keyFingerprint string
	sandboxes      []sandboxDecl
}

// sandboxDecl is one declared sandbox with its profile and token owners.
type sandboxDecl struct {
	profiles.Sandbox
	profile *profiles.Profile
	owners  []ownerDecl
}

// ownerDecl is one GitHub owner a sandbox gets a token for.
type ownerDecl struct {
	owner string
	inst  profiles.Installation
	repos []string // nil: all the installation's repositories
	all   bool
	param string
}

// Desired builds every resource the declaration asks for, in no particular order:
// each registered kind builds its own.
func Desired(cfg *profiles.Config, rt *Runtime) ([]*Resource, error) {
	d, err := newDeclaration(cfg, rt)
	if err != nil {
		return nil, err
	}
	var out []*Resource
	for _, k := range rt.kinds() {
		rs, err := k.Desired(d)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func newDeclaration(cfg *profiles.Config, rt *Runtime) (*decl, error) {
	if len(cfg.Sandboxes) > 0 && !cfg.GitHubConfigured() {
		return nil, ErrGitHubNotConfigured
	}
	n := rt.Names
	d := &decl{cfg: cfg, rt: rt, pe: policyEnv{Region: rt.Region, Account: rt.Account, Prefix: n.Prefix, Function: n.Function()}}
	if pem := cfg.GitHub.PrivateKeyPEM; pem != nil {
		fp, err := githubapp.KeyFingerprint(pem)
		if err != nil {
			return nil, fmt.Errorf("github.privateKeyFile %s: %w", cfg.GitHub.PrivateKeyFile, err)
		}
		d.keyFingerprint = fp
	}
	for _, sb := range cfg.Sandboxes {
		p := cfg.Profile(sb.Profile)
		if p == nil {
			return nil, fmt.Errorf("sandbox %s: profile %q not found", sb.ID, sb.Profile)
		}
		sd := sandboxDecl{Sandbox: sb, profile: p}
		for i, owner := range cfg.OwnersOf(p) {
			inst, ok := cfg.InstallationFor(owner)
			if !ok {
				return nil, fmt.Errorf("sandbox %s: no GitHub App installation for owner %q; add it under github.installations in %s or run `km configure github --discover --force`", sb.ID, owner, cfg.File)
			}
			repos, all := p.ReposFor(owner)
			if all {
				repos = nil
			}
			sd.owners = append(sd.owners, ownerDecl{owner: owner, inst: inst, repos: repos, all: all, param: sandboxtoken.Param(sb.ID, owner, i == 0)})
		}
		d.sandboxes = append(d.sandboxes, sd)
	}
	return d, nil
}

// reposAttr is the plan's repositories attribute: "*" or a comma list.
func (o ownerDecl) reposAttr() string {
	if o.all {
		return "*"
	}
	return strings.Join(o.repos, ",")
}
