package lambda

import (
	"errors"
	"fmt"
	"strings"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
)

// ErrRefused is wrapped by every refusal of a payload: the refresher trusts
// nothing in it (whoever may invoke the function or edit a schedule writes
// it, and Lambda's retries and the relay replay old ones). A refused job
// makes no GitHub call and writes nothing.
var ErrRefused = errors.New("refused")

// job is one owner's token to refresh.
type job struct {
	index     int // position in the payload's Owners
	sandbox   string
	owner     string
	keyAlias  string
	parameter string
	req       githubapp.TokenRequest
}

func (j job) event(err error) event {
	return event{
		SandboxID: j.sandbox, Owner: j.owner, InstallationID: j.req.InstallationID, Parameter: j.parameter,
		Repositories: reposString(j.req.Repositories), Permissions: sandboxtoken.PermString(j.req.Permissions), Err: err,
	}
}

func refused(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, a...)...)
}

// allowedPermissions are the only permissions km asks for (profiles map
// clone/fetch/push to contents and GitHub adds metadata: read).
var allowedPermissions = map[string]map[string]bool{
	"contents": {"read": true, "write": true},
	"metadata": {"read": true},
}

// checkPermissions refuses empty permissions (GitHub would grant everything
// the installation has) and anything beyond contents and metadata.
func checkPermissions(perms map[string]string) error {
	if len(perms) == 0 {
		return refused("no permissions: an empty request would get everything the installation grants")
	}
	for k, v := range perms {
		if !allowedPermissions[k][v] {
			return refused("permission %s=%s is outside what km grants (contents: read or write, metadata: read)", k, v)
		}
	}
	return nil
}

// jobs turns the payload into one job per owner after checking it against
// the naming rules: the prefix is this function's, the sandbox id matches
// the declaration's id rule, the key alias is exactly the sandbox's, every
// parameter is one of that sandbox's token parameters (the owner's own name,
// or the first owner's seed name), and every owner asks for an installation
// and for permissions within contents and metadata. Any violation refuses
// the whole payload.
func (h *Handler) jobs(p sandboxtoken.Payload) ([]job, error) {
	if p.Prefix != "" && p.Prefix != h.Prefix {
		return nil, refused("payload of sandbox %q is for prefix %q but this function serves prefix %q; run km apply to repair the schedule", p.SandboxID, p.Prefix, h.Prefix)
	}
	n := names.New(h.Prefix)
	if err := n.CheckSandboxID(p.SandboxID); err != nil {
		return nil, refused("%v", err)
	}
	alias := n.KeyAlias(p.SandboxID)
	if p.KeyAlias != "" && p.KeyAlias != alias {
		return nil, refused("payload of sandbox %s names key %q; the sandbox's key is %s", p.SandboxID, p.KeyAlias, alias)
	}
	out := make([]job, 0, len(p.Owners))
	for i, o := range p.Owners {
		param := o.Parameter
		if param == "" {
			param = sandboxtoken.Param(p.SandboxID, o.Owner, i == 0)
		}
		owner, first, ok := sandboxtoken.ParamOwner(p.SandboxID, param)
		if !ok || (!first && owner != strings.ToLower(o.Owner)) {
			return nil, refused("payload of sandbox %s names parameter %s for owner %s; that owner's token parameters are %s and %s",
				p.SandboxID, param, o.Owner, sandboxtoken.Param(p.SandboxID, "", true), sandboxtoken.Param(p.SandboxID, o.Owner, false))
		}
		if o.InstallationID <= 0 {
			return nil, refused("payload of sandbox %s has no installation for owner %s", p.SandboxID, o.Owner)
		}
		perms := o.Permissions
		if perms == nil {
			perms = p.Permissions
		}
		if err := checkPermissions(perms); err != nil {
			return nil, fmt.Errorf("payload of sandbox %s, owner %s: %w", p.SandboxID, o.Owner, err)
		}
		account := o.Owner
		if account == "*" {
			account = ""
		}
		out = append(out, job{
			index: i, sandbox: p.SandboxID, owner: o.Owner, keyAlias: alias, parameter: param,
			req: githubapp.TokenRequest{
				InstallationID: o.InstallationID, Account: account,
				Repositories: o.Repositories, Permissions: perms,
			},
		})
	}
	return out, nil
}

// checkStored compares a job with the parameter it would overwrite: the
// parameter must exist (the refresher never creates one: km apply writes the
// first token, so a destroyed sandbox or a dropped owner stays gone) and its
// metadata must be this deployment's, for this owner, with the scope the job
// asks for (km apply owns scope changes; an old payload from a retry or a
// relay must not widen a narrowed token).
func (h *Handler) checkStored(j job, stored map[string]state.Parameter) error {
	prm, ok := stored[j.parameter]
	if !ok {
		return refused("%s does not exist; the refresher only refreshes tokens km apply wrote (a destroyed sandbox stays destroyed)", j.parameter)
	}
	m, err := sandboxtoken.DecodeMeta(prm.Description)
	if err != nil {
		return refused("%s has no km token metadata (%v); run km apply to write the token", j.parameter, err)
	}
	switch {
	case m.Prefix != h.Prefix:
		return refused("%s was written by prefix %q, not %q", j.parameter, m.Prefix, h.Prefix)
	case !strings.EqualFold(m.Owner, j.owner):
		return refused("%s holds owner %s's token, not %s's", j.parameter, m.Owner, j.owner)
	case m.Scope != githubapp.ScopeFingerprint(j.req.InstallationID, j.req.Repositories, j.req.Permissions):
		return refused("the payload's scope (installation %d, repositories %s, permissions %s) differs from the scope stored with %s (installation %d, repositories %s, permissions %s); km apply owns scope changes",
			j.req.InstallationID, reposString(j.req.Repositories), sandboxtoken.PermString(j.req.Permissions), j.parameter,
			m.InstallationID, m.Repositories, m.Permissions)
	}
	return nil
}
