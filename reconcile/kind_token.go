package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
)

const TypeToken = "km_github_token"

// tokenKind: a sandbox's installation token for one owner, an SSM SecureString
// encrypted with the sandbox key. The Description holds non-secret metadata
// (scope fingerprint, expiry) so plan never decrypts.
type tokenKind struct{}

func (tokenKind) Type() string { return TypeToken }

// TokenAPI is the SSM slice the token parameters use (the write goes through
// sandboxtoken.WriteVersion).
type TokenAPI interface {
	DescribeParameters(ctx context.Context, path string) ([]state.Parameter, error)
	PutParameter(ctx context.Context, in state.PutParameterInput) (int64, error)
	DeleteParameter(ctx context.Context, name string) error
}

// tokenParams reads every parameter under /sandbox once (DescribeParameters, 50 a
// page) and keeps km's token parameters by name.
func (rt *Runtime) tokenParams(ctx context.Context) (map[string]state.Parameter, error) {
	v, err := rt.memo.get(ctx, "tokens", func(ctx context.Context) (any, error) {
		ps, err := rt.AWS.DescribeParameters(ctx, sandboxtoken.SandboxPath())
		if err != nil {
			return nil, fmt.Errorf("reading sandbox token parameters under %s: %w", sandboxtoken.SandboxPath(), err)
		}
		out := map[string]state.Parameter{}
		for _, p := range ps {
			if _, _, ok := parseTokenParam(p.Name); ok {
				out[p.Name] = p
			}
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]state.Parameter), nil
}

func (rt *Runtime) tokenParamExists(ctx context.Context, sandbox string) bool {
	ps, err := rt.tokenParams(ctx)
	if err != nil {
		return false
	}
	_, ok := ps[sandboxtoken.Param(sandbox, "", true)]
	return ok
}

// parseTokenParam splits /sandbox/{id}/github-token[-{owner}].
func parseTokenParam(name string) (sandbox, owner string, ok bool) {
	rest, ok := strings.CutPrefix(name, sandboxtoken.SandboxPath()+"/")
	if !ok {
		return "", "", false
	}
	id, leaf, ok := strings.Cut(rest, "/")
	if !ok || id == "" || strings.Contains(leaf, "/") {
		return "", "", false
	}
	if leaf == "github-token" {
		return id, "", true
	}
	if o, ok := strings.CutPrefix(leaf, "github-token-"); ok && o != "" {
		return id, o, true
	}
	return "", "", false
}

// Read maps every live token parameter to exactly one address. A parameter
// whose name a declared token uses is that token's live state (Diff sees
// when it holds another owner's token: the owner is part of a token's
// identity). Any other parameter km wrote is an orphan addressed by its
// owner, or by owner and parameter when that address is taken (a dropped
// owner's leftover beside a declared token of the same owner).
func (tokenKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	ps, err := rt.tokenParams(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Resource{}
	taken := map[string]bool{}
	for _, d := range desired {
		byName[d.ID] = d
		taken[d.Address] = true
	}
	sorted := make([]string, 0, len(ps))
	for name := range ps {
		sorted = append(sorted, name)
	}
	sort.Strings(sorted)
	var out []*Resource
	for _, name := range sorted {
		p := ps[name]
		id, owner, _ := parseTokenParam(name)
		meta, merr := sandboxtoken.DecodeMeta(p.Description)
		if owner == "" {
			owner = meta.Owner
		}
		var addr string
		if d := byName[name]; d != nil {
			addr = d.Address
		} else if merr != nil || meta.Prefix != rt.Names.Prefix {
			continue // not written by this km deployment: never touched
		} else {
			if owner == "" {
				owner = "unknown"
			}
			addr = addrToken(id, owner)
			if taken[addr] {
				addr = addrToken(id, owner+"/"+name[strings.LastIndex(name, "/")+1:])
			}
			taken[addr] = true
		}
		r := &Resource{
			Address: addr, Type: TypeToken, Sandbox: id, ID: name,
			Attrs: map[string]string{
				"name": name, "type": p.Type, "value": "(sensitive)",
				"key_id": p.KeyID, "owner": meta.Owner,
			},
			Sensitive:   map[string]bool{"value": true},
			Fingerprint: "version=" + strconv.FormatInt(p.Version, 10),
		}
		if merr == nil {
			r.Attrs["installation_id"] = strconv.FormatInt(meta.InstallationID, 10)
			r.Attrs["scope"] = meta.Scope
			r.Attrs["repositories"] = meta.Repositories
			r.Attrs["permissions"] = meta.Permissions
			r.Attrs["expires_at"] = meta.ExpiresAt.UTC().Format(time.RFC3339)
			r.Extra = meta
		}
		out = append(out, r)
	}
	return out, nil
}

func (tokenKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	switch {
	case desired == nil && live == nil:
		return NoOp, ""
	case desired == nil:
		return Delete, "orphaned: no sandbox/owner in km.yaml uses this token"
	case live == nil:
		return Create, "token parameter missing"
	}
	meta, ok := live.Extra.(sandboxtoken.Meta)
	switch {
	case !ok:
		return Update, "token metadata missing from the parameter description: scope unknown"
	case !strings.EqualFold(meta.Owner, desired.Attrs["owner"]):
		return Replace, fmt.Sprintf("%s holds %s's token, but it is %s's parameter now (the owner is part of a token's identity): %s's token is revoked",
			live.ID, meta.Owner, desired.Attrs["owner"], meta.Owner)
	case live.Attrs["type"] != "SecureString":
		return Update, "parameter is " + live.Attrs["type"] + ", not SecureString"
	case meta.Scope != desired.Attrs["scope"]:
		return Update, "scope changed: " + scopeChange(desired, live)
	case rt.planned[addrKey(desired.Sandbox)] == Create || rt.planned[addrKey(desired.Sandbox)] == Replace:
		return Update, "the sandbox key is new: the token must be encrypted with it"
	case live.Attrs["key_id"] != "" && !keyMatches(live.Attrs["key_id"], desired.Attrs["key_id"]):
		return Update, "encrypted with " + live.Attrs["key_id"] + ", not the sandbox key " + desired.Attrs["key_id"]
	case meta.Expired(rt.now(), rt.tokenMargin()):
		return Update, reasonTokenExpired + " at " + meta.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return NoOp, ""
}

func keyMatches(live, want string) bool {
	return live == want || strings.HasSuffix(live, ":"+want) || strings.HasSuffix(live, "/"+strings.TrimPrefix(want, "alias/"))
}

func scopeChange(desired, live *Resource) string {
	var parts []string
	for _, a := range []string{"installation_id", "repositories", "permissions"} {
		if live.Attrs[a] != desired.Attrs[a] {
			parts = append(parts, fmt.Sprintf("%s %q → %q", a, live.Attrs[a], desired.Attrs[a]))
		}
	}
	if len(parts) == 0 {
		return "scope fingerprint differs"
	}
	return strings.Join(parts, "; ")
}

// Apply mints, verifies (githubapp.VerifyGrant, the refresher's check) and
// stores a token, then revokes what it replaced; a deletion revokes every
// version first. Revocation goes through rt.Revoker (revoke.go). An
// overwrite asks twice: just before the write (where SSM keeps no readable
// history, the current token can only be read then) and after it, for
// every older version the history keeps, so the sandbox always holds a
// valid token.
func (tokenKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	say := c.say
	if say == nil {
		say = func(string, ...any) {}
	}
	if c.Action == Delete {
		rt.retire(ctx, say, c, sandboxtoken.RevokeParam{Name: c.ID})
		if err := rt.AWS.DeleteParameter(ctx, c.ID); err != nil && !isNotFound(err) {
			return nil, err
		}
		return nil, nil
	}
	spec := c.desired.Extra.(tokenSpec)
	m, err := rt.Minter(ctx)
	if err != nil {
		return nil, err
	}
	req := githubapp.TokenRequest{
		InstallationID: spec.InstallationID, Repositories: spec.Repositories, Permissions: spec.Permissions,
	}
	tok, err := m.CreateToken(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("minting a token for sandbox %s, owner %s (installation %d): %w", spec.Sandbox, spec.Owner, spec.InstallationID, err)
	}
	if err := githubapp.VerifyGrant(req, tok, rt.now()); err != nil {
		if r, ok := m.(MintedRevoker); ok && tok.Value != "" {
			if rerr := r.RevokeMinted(ctx, tok); rerr != nil {
				err = fmt.Errorf("%w (revoking it failed too: %v; it expires at %s)", err, rerr, tok.ExpiresAt.UTC().Format(time.RFC3339))
			} else {
				err = fmt.Errorf("%w; it was revoked", err)
			}
		}
		return nil, fmt.Errorf("the token minted for sandbox %s, owner %s (installation %d): %w", spec.Sandbox, spec.Owner, spec.InstallationID, err)
	}
	overwrite := c.live != nil
	var (
		before    sandboxtoken.RevokeResult
		beforeErr error
	)
	if overwrite {
		before, beforeErr = rt.revoke(ctx, spec.Sandbox, sandboxtoken.RevokeParam{Name: spec.Parameter, BeforeOverwrite: true})
	}
	version, err := sandboxtoken.WriteVersion(ctx, rt.AWS, spec.Sandbox, sandboxtoken.Minted{
		Parameter: spec.Parameter, KeyAlias: spec.KeyAlias, Token: tok,
		Meta: sandboxtoken.Meta{
			Owner: spec.Owner, InstallationID: spec.InstallationID, Scope: spec.Scope,
			Repositories: c.desired.Attrs["repositories"], Permissions: c.desired.Attrs["permissions"],
			MintedAt: rt.now().UTC(), MintedBy: "apply",
		},
		Prefix: rt.Names.Prefix,
	})
	if err != nil {
		if overwrite {
			rt.settle(ctx, say, c, before, beforeErr)
		}
		return nil, err
	}
	if !overwrite {
		return nil, nil
	}
	if beforeErr != nil || !before.History {
		rt.settle(ctx, say, c, before, beforeErr)
		return nil, nil
	}
	rt.retire(ctx, say, c, sandboxtoken.RevokeParam{Name: spec.Parameter, BelowVersion: version})
	return nil, nil
}

func addrToken(id, owner string) string {
	return SandboxAddr(id) + `.km_github_token["` + strings.ToLower(owner) + `"]`
}

// DependsOn: a token is encrypted with its sandbox's alias and minted with
// the App private key.
func (tokenKind) DependsOn() []string { return []string{TypeAlias, TypeConfigParam} }

// Desired declares one token per sandbox and owner.
func (tokenKind) Desired(d *decl) ([]*Resource, error) {
	var out []*Resource
	for _, sb := range d.sandboxes {
		alias := d.rt.Names.KeyAlias(sb.ID)
		for _, o := range sb.owners {
			perms := sb.profile.GitHubPermissions()
			scope := githubapp.ScopeFingerprint(o.inst.ID, o.repos, perms)
			tok := &Resource{
				Address: addrToken(sb.ID, o.owner), Type: TypeToken, Sandbox: sb.ID, ID: o.param,
				Attrs: map[string]string{
					"name": o.param, "type": "SecureString", "key_id": alias,
					"owner": o.owner, "installation_id": strconv.FormatInt(o.inst.ID, 10),
					"repositories": o.reposAttr(), "permissions": sandboxtoken.PermString(perms),
					"scope": scope, "value": "(minted at apply)",
				},
				Sensitive: map[string]bool{"value": true},
				DependsOn: []string{addrAlias(sb.ID)},
				Extra: tokenSpec{
					Owner: o.owner, InstallationID: o.inst.ID, Repositories: o.repos, Permissions: perms,
					Scope: scope, Parameter: o.param, KeyAlias: alias, Sandbox: sb.ID,
				},
			}
			if d.cfg.GitHub.PrivateKeyPEM != nil {
				tok.DependsOn = append(tok.DependsOn, addrPrivateKey)
			}
			out = append(out, tok)
		}
	}
	return out, nil
}

// tokenSpec is what the token kind needs to mint and write.
type tokenSpec struct {
	Sandbox        string
	Owner          string
	InstallationID int64
	Repositories   []string
	Permissions    map[string]string
	Scope          string
	Parameter      string
	KeyAlias       string
}

// ReadTouched reads the touched token parameters (readTouchedDeclared).
func (k tokenKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}
