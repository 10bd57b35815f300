package lambda

import (
	"fmt"
	"strings"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/payload"
	"github.com/klankermaker/km/internal/tokenmeta"
)

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
		Repositories: reposString(j.req.Repositories), Permissions: tokenmeta.PermString(j.req.Permissions), Err: err,
	}
}

// jobs turns the payload into one job per owner, refusing a payload that
// names another prefix or writes outside the sandbox's token parameters.
func (h *Handler) jobs(p payload.Payload) ([]job, error) {
	if p.Prefix != "" && p.Prefix != h.Prefix {
		return nil, fmt.Errorf("refresh payload of sandbox %s is for prefix %q but this function serves prefix %q; run km apply to repair the schedule", p.SandboxID, p.Prefix, h.Prefix)
	}
	alias := p.KeyAlias
	if alias == "" {
		alias = names.New(h.Prefix).KeyAlias(p.SandboxID)
	}
	base := names.TokenParam(p.SandboxID, "", true)
	out := make([]job, 0, len(p.Owners))
	for i, o := range p.Owners {
		param := o.Parameter
		if param == "" {
			param = names.TokenParam(p.SandboxID, o.Owner, i == 0)
		}
		if param != base && !strings.HasPrefix(param, base+"-") {
			return nil, fmt.Errorf("refresh payload of sandbox %s names parameter %s for owner %s, outside the sandbox's token parameters %s*; run km apply to repair the schedule", p.SandboxID, param, o.Owner, base)
		}
		perms := o.Permissions
		if perms == nil {
			perms = p.Permissions
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
