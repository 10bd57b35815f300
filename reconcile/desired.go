package reconcile

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/profiles"
)

// ErrGitHubNotConfigured means sandboxes are declared but no GitHub App is
// (defined in profiles, which reports it while loading).
var ErrGitHubNotConfigured = profiles.ErrGitHubNotConfigured

// Addresses of the shared resources.
const (
	addrAppClientID   = "aws_ssm_parameter.app_client_id"
	addrPrivateKey    = "aws_ssm_parameter.private_key"
	addrLegacyInst    = "aws_ssm_parameter.installation_id"
	addrRefresherRole = "aws_iam_role.refresher"
	addrSchedulerRole = "aws_iam_role.scheduler"
	addrLogGroup      = "aws_cloudwatch_log_group.refresher"
	addrFunction      = "aws_lambda_function.refresher"
	addrScheduleGroup = "aws_scheduler_schedule_group.refresh"
)

func addrInstallation(account string) string {
	return `aws_ssm_parameter.installation["` + strings.ToLower(account) + `"]`
}
func addrKey(id string) string      { return SandboxAddr(id) + ".aws_kms_key.token" }
func addrAlias(id string) string    { return SandboxAddr(id) + ".aws_kms_alias.token" }
func addrSchedule(id string) string { return SandboxAddr(id) + ".aws_scheduler_schedule.refresh" }
func addrToken(id, owner string) string {
	return SandboxAddr(id) + `.km_github_token["` + strings.ToLower(owner) + `"]`
}

// ref is a reference to another resource's attribute, resolved at plan time from
// live state and at apply time from what was applied.
func ref(addr, attr string) string { return "${" + addr + "." + attr + "}" }

// ZipSHA256 is the Lambda CodeSha256 of a zip: base64 of the raw SHA-256 digest.
func ZipSHA256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Desired builds every resource the declaration asks for, in no particular order.
func Desired(cfg *profiles.Config, rt *Runtime) ([]*Resource, error) {
	if len(cfg.Sandboxes) > 0 && !cfg.GitHubConfigured() {
		return nil, ErrGitHubNotConfigured
	}
	n := rt.Names
	pe := policyEnv{Region: rt.Region, Account: rt.Account, Prefix: n.Prefix, Function: n.Function()}
	var out []*Resource
	add := func(r *Resource) { out = append(out, r) }

	// App configuration.
	if id := cfg.GitHub.AppClientID; id != "" {
		add(stringParam(addrAppClientID, n.AppClientIDParam(), id))
	}
	if pem := cfg.GitHub.PrivateKeyPEM; pem != nil {
		fp, err := githubapp.KeyFingerprint(pem)
		if err != nil {
			return nil, fmt.Errorf("github.privateKeyFile %s: %w", cfg.GitHub.PrivateKeyFile, err)
		}
		add(&Resource{
			Address: addrPrivateKey, Type: TypeConfigParam, ID: n.PrivateKeyParam(),
			Attrs: map[string]string{
				"name": n.PrivateKeyParam(), "type": "SecureString",
				"value":       sensitiveMarker(fp),
				"description": privateKeyDescription(fp),
				"key_id":      appKeyAlias(rt),
			},
			Sensitive: map[string]bool{"value": true},
			Extra:     pem,
			DependsOn: []string{addrAppAlias},
		})
	}
	for _, inst := range cfg.GitHub.Installations {
		add(stringParam(addrInstallation(inst.Account), n.InstallationParam(inst.Account), strconv.FormatInt(inst.ID, 10)))
	}
	if def, ok := cfg.InstallationFor(cfg.GitHub.DefaultInstallation); ok && len(cfg.GitHub.Installations) > 0 {
		add(stringParam(addrLegacyInst, n.LegacyInstallationParam(), strconv.FormatInt(def.ID, 10)))
	}

	// The refresher.
	add(&Resource{
		Address: addrRefresherRole, Type: TypeRole, ID: n.RefresherRole(),
		Attrs: map[string]string{
			"name": n.RefresherRole(), "assume_role_policy": refresherTrust(),
			"inline_policy": refresherPolicy(pe), "arn": Unknown,
		},
	})
	add(&Resource{
		Address: addrSchedulerRole, Type: TypeRole, ID: n.SchedulerRole(),
		Attrs: map[string]string{
			"name": n.SchedulerRole(), "assume_role_policy": schedulerTrust(pe),
			"inline_policy": schedulerPolicy(pe), "arn": Unknown,
		},
	})
	add(&Resource{
		Address: addrLogGroup, Type: TypeLogGroup, ID: n.LogGroup(),
		Attrs: map[string]string{
			"name": n.LogGroup(), "retention_in_days": strconv.Itoa(int(cfg.Refresher.LogRetentionDays)),
		},
	})
	env := map[string]string{
		"KM_PREFIX":         n.Prefix,
		"KM_REGION":         rt.Region,
		"KM_GITHUB_API_URL": cfg.GitHub.APIURL,
	}
	add(&Resource{
		Address: addrFunction, Type: TypeFunction, ID: n.Function(),
		Attrs: map[string]string{
			"function_name":    n.Function(),
			"runtime":          "provided.al2023",
			"handler":          "bootstrap",
			"architecture":     cfg.Refresher.Architecture,
			"memory_size":      strconv.Itoa(int(cfg.Refresher.MemoryMB)),
			"timeout":          strconv.Itoa(int(cfg.Refresher.TimeoutSeconds)),
			"role":             ref(addrRefresherRole, "arn"),
			"environment":      mustJSON(env),
			"source_code_hash": ZipSHA256(rt.Zip),
			// The relay (lambda/relay.go) invokes the function from itself
			// on purpose; Lambda's recursive loop detection would stop a
			// relay after 16 invocations. The relay bounds itself.
			"recursive_loop": "Allow",
			"arn":            Unknown,
		},
		DependsOn: []string{addrRefresherRole, addrLogGroup},
	})
	for _, r := range desiredAppKey(rt, pe) {
		add(r)
	}
	add(&Resource{
		Address: addrScheduleGroup, Type: TypeScheduleGroup, ID: n.ScheduleGroup(),
		Attrs: map[string]string{"name": n.ScheduleGroup()},
	})

	// Sandboxes.
	for _, sb := range cfg.Sandboxes {
		rs, err := desiredSandbox(cfg, rt, pe, sb)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func desiredSandbox(cfg *profiles.Config, rt *Runtime, pe policyEnv, sb profiles.Sandbox) ([]*Resource, error) {
	n := rt.Names
	p := cfg.Profile(sb.Profile)
	if p == nil {
		return nil, fmt.Errorf("sandbox %s: profile %q not found", sb.ID, sb.Profile)
	}
	alias := n.KeyAlias(sb.ID)
	key := &Resource{
		Address: addrKey(sb.ID), Type: TypeKey, Sandbox: sb.ID,
		Attrs: map[string]string{
			"description": "km GitHub token key for sandbox " + sb.ID,
			"policy":      keyPolicy(pe, sb.ID, sb.Principal, ref(addrRefresherRole, "arn")),
			"key_state":   "Enabled",
			"key_id":      Unknown,
		},
		DependsOn: []string{addrRefresherRole},
	}
	aliasR := &Resource{
		Address: addrAlias(sb.ID), Type: TypeAlias, Sandbox: sb.ID, ID: alias,
		Attrs:     map[string]string{"name": alias, "target_key_id": ref(addrKey(sb.ID), "key_id")},
		DependsOn: []string{addrKey(sb.ID)},
	}
	out := []*Resource{key, aliasR}

	pl := sandboxtoken.Payload{SandboxID: sb.ID, Prefix: n.Prefix, KeyAlias: alias, Permissions: p.GitHubPermissions()}
	owners := cfg.OwnersOf(p)
	var tokenAddrs []string
	for i, owner := range owners {
		inst, ok := cfg.InstallationFor(owner)
		if !ok {
			return nil, fmt.Errorf("sandbox %s: no GitHub App installation for owner %q; add it under github.installations in %s or run `km configure github --discover --force`", sb.ID, owner, cfg.File)
		}
		repos, all := p.ReposFor(owner)
		if all {
			repos = nil
		}
		perms := p.GitHubPermissions()
		param := sandboxtoken.Param(sb.ID, owner, i == 0)
		scope := githubapp.ScopeFingerprint(inst.ID, repos, perms)
		reposAttr := "*"
		if !all {
			reposAttr = strings.Join(repos, ",")
		}
		tok := &Resource{
			Address: addrToken(sb.ID, owner), Type: TypeToken, Sandbox: sb.ID, ID: param,
			Attrs: map[string]string{
				"name": param, "type": "SecureString", "key_id": alias,
				"owner": owner, "installation_id": strconv.FormatInt(inst.ID, 10),
				"repositories": reposAttr, "permissions": sandboxtoken.PermString(perms),
				"scope": scope, "value": "(minted at apply)",
			},
			Sensitive: map[string]bool{"value": true},
			DependsOn: []string{addrAlias(sb.ID)},
			Extra: tokenSpec{
				Owner: owner, InstallationID: inst.ID, Repositories: repos, Permissions: perms,
				Scope: scope, Parameter: param, KeyAlias: alias, Sandbox: sb.ID,
			},
		}
		if cfg.GitHub.PrivateKeyPEM != nil {
			tok.DependsOn = append(tok.DependsOn, addrPrivateKey)
		}
		out = append(out, tok)
		tokenAddrs = append(tokenAddrs, tok.Address)
		pl.Owners = append(pl.Owners, sandboxtoken.Owner{Owner: owner, InstallationID: inst.ID, Repositories: repos, Permissions: perms, Parameter: param})
		if i == 0 {
			pl.InstallationID = inst.ID
			for _, rp := range p.AllowedRepos {
				if rp.Owner == "*" || strings.EqualFold(rp.Owner, owner) {
					pl.AllowedRepos = append(pl.AllowedRepos, rp.Owner+"/"+rp.Repo)
				}
			}
			if pl.AllowedRepos != nil && len(pl.AllowedRepos) == 1 && pl.AllowedRepos[0] == "*/*" {
				pl.AllowedRepos = []string{"*"}
			}
		}
	}
	sched := &Resource{
		Address: addrSchedule(sb.ID), Type: TypeSchedule, Sandbox: sb.ID, ID: n.Schedule(sb.ID),
		Attrs: map[string]string{
			"name": n.Schedule(sb.ID), "group": n.ScheduleGroup(),
			"schedule_expression": cfg.Refresher.Schedule, "state": "ENABLED",
			"target_arn": ref(addrFunction, "arn"), "role_arn": ref(addrSchedulerRole, "arn"),
			"input":                  pl.Encode(),
			"retry_maximum_attempts": "3", "retry_maximum_event_age": "600",
			"start_offset": spreadAttr(sb.ID, cfg.Refresher.Schedule), // schedule_spread.go
		},
		DependsOn: append([]string{addrFunction, addrSchedulerRole, addrScheduleGroup}, tokenAddrs...),
	}
	return append(out, sched), nil
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

func stringParam(addr, name, value string) *Resource {
	return &Resource{
		Address: addr, Type: TypeConfigParam, ID: name,
		Attrs: map[string]string{"name": name, "type": "String", "value": value},
	}
}

const keyDescPrefix = "km App private key "

func privateKeyDescription(fp string) string { return keyDescPrefix + fp }

func sensitiveMarker(fp string) string { return "sensitive:" + fp }
