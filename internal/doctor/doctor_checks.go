package doctor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/state"
)

const (
	fixSetup   = "run `km github` to create the App, then `km configure github --discover --force` to record its installations"
	fixApply   = "run `km apply` (it writes what km.yaml declares)"
	fixKeyFile = "run `km configure github --private-key-file F --force` with the App's current .pem (generate one in the App's settings if lost)"
)

func (d *doctor) checkConfigured() {
	if d.cfg.GitHubConfigured() {
		return
	}
	msg, _, _ := strings.Cut(reconcile.ErrGitHubNotConfigured.Error(), "; fix:")
	d.add("github.configured", Fail, msg, fixSetup)
}

func (d *doctor) checkAWS(ctx context.Context) bool {
	const name = "aws.identity"
	aws, err := d.e.Connect(ctx, d.cfg)
	if err != nil {
		d.add(name, Fail, oneLine(err.Error()), "set AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID) and a region (region in km.yaml or AWS_REGION)")
		return false
	}
	id, err := aws.CallerIdentity(ctx)
	if err != nil {
		d.add(name, Fail, "sts:GetCallerIdentity failed: "+oneLine(err.Error()), "check the AWS credentials (aws sts get-caller-identity) and the region; the remaining checks need AWS")
		return false
	}
	d.aws = aws
	d.add(name, Pass, fmt.Sprintf("%s (account %s) in %s", id.ARN, id.Account, aws.Region()), "")
	return true
}

// checkAppConfig: the App client id and private key in SSM, present, matching
// km.yaml. The key is compared through the fingerprint km writes in its
// description and never decrypted: only the refresher may (docs/security.md).
func (d *doctor) checkAppConfig(ctx context.Context) {
	n, g := d.n, d.cfg.GitHub
	params, err := d.aws.GetParameters(ctx, []string{n.AppClientIDParam()}, false)
	if err != nil {
		d.add("github.app-client-id", Fail, "reading "+n.ConfigPath()+" from SSM: "+oneLine(err.Error()), "grant ssm:GetParameters on "+n.ConfigPath()+"/* to these credentials")
		return
	}
	cid, ok := params[n.AppClientIDParam()]
	switch {
	case !ok && g.AppClientID == "":
		d.add("github.app-client-id", Fail, "no App client ID in SSM "+n.AppClientIDParam()+" nor in "+d.cfg.Path, fixSetup)
	case !ok:
		d.clientID = g.AppClientID
		d.add("github.app-client-id", Fail, "SSM "+n.AppClientIDParam()+" is missing ("+d.cfg.Path+" says "+g.AppClientID+")", fixApply)
	case g.AppClientID != "" && cid.Value != g.AppClientID:
		d.clientID = g.AppClientID
		d.add("github.app-client-id", Fail, fmt.Sprintf("SSM %s holds %s but %s says %s", n.AppClientIDParam(), cid.Value, d.cfg.Path, g.AppClientID),
			fixApply+", or correct github.appClientId in "+d.cfg.Path)
	default:
		d.clientID = cid.Value
		d.add("github.app-client-id", Pass, "SSM "+n.AppClientIDParam()+" = "+cid.Value+matchNote(g.AppClientID != "", d.cfg.Path), "")
	}

	d.pem = g.PrivateKeyPEM
	yamlFP := ""
	if g.PrivateKeyPEM != nil {
		yamlFP, _ = githubapp.KeyFingerprint(g.PrivateKeyPEM)
	}
	metas, err := d.aws.DescribeParameters(ctx, n.ConfigPath())
	if err != nil {
		d.add("github.private-key", Fail, "reading the metadata of "+n.ConfigPath()+" from SSM: "+oneLine(err.Error()), "grant ssm:DescribeParameters to these credentials")
		return
	}
	var key *state.Parameter
	for i := range metas {
		if metas[i].Name == n.PrivateKeyParam() {
			key = &metas[i]
		}
	}
	switch {
	case key == nil && g.PrivateKeyPEM == nil:
		d.add("github.private-key", Fail, "no App private key in SSM "+n.PrivateKeyParam()+" nor in "+d.cfg.Path+" (github.privateKeyFile)", fixKeyFile)
	case key == nil:
		d.add("github.private-key", Fail, "SSM "+n.PrivateKeyParam()+" is missing ("+d.cfg.Path+" has the key "+yamlFP+")", fixApply)
	default:
		fp, ok := reconcile.PrivateKeyFingerprint(key.Description)
		switch {
		case !ok:
			d.add("github.private-key", Fail, "SSM "+n.PrivateKeyParam()+" has no fingerprint in its description (not written by km apply)", fixApply)
		case yamlFP != "" && fp != yamlFP:
			d.add("github.private-key", Fail, fmt.Sprintf("SSM %s holds the key %s but %s has %s", n.PrivateKeyParam(), fp, d.cfg.Path, yamlFP),
				fixApply+", or point github.privateKeyFile at the right .pem")
		default:
			d.add("github.private-key", Pass, "SSM "+n.PrivateKeyParam()+" holds an RSA key "+fp+matchNote(yamlFP != "", d.cfg.Path), "")
		}
	}
}

func matchNote(inYAML bool, path string) string {
	if inYAML {
		return ", as " + path + " says"
	}
	return ""
}

// checkGitHubApp: GitHub accepts the App's JWT (GET /app).
func (d *doctor) checkGitHubApp(ctx context.Context) {
	const name = "github.app"
	if d.clientID == "" {
		d.add(name, Fail, "cannot ask GitHub about the App: its client ID is missing (see above)", fixSetup)
		return
	}
	if d.pem == nil {
		d.add(name, Warn, "cannot ask GitHub about the App without its private key: km.yaml names no github.privateKeyFile, and only the refresher may decrypt the copy in SSM (docs/security.md)",
			"run km doctor where github.privateKeyFile points at the App's .pem")
		return
	}
	c, err := d.e.AppClient(d.cfg, d.clientID, d.pem)
	if err != nil {
		d.add(name, Fail, oneLine(err.Error()), fixKeyFile)
		return
	}
	app, err := c.GetApp(ctx)
	if err != nil {
		fix := "check github.apiURL in " + d.cfg.Path + " (or KM_GITHUB_API_URL) and the network"
		if errors.Is(err, githubapp.ErrUnauthorized) {
			fix = "the key does not belong to App " + d.clientID + ", or this machine's clock is off: " + fixKeyFile
		}
		d.add(name, Fail, oneLine(err.Error()), fix)
		return
	}
	d.app, d.appOK = c, true
	d.add(name, Pass, fmt.Sprintf("GitHub (%s) accepts the App JWT: %s (id %d, owner %s)", d.cfg.GitHub.APIURL, app.Slug, app.ID, app.Owner), "")
}

// checkInstallations: one line per account in km.yaml — the installation
// exists on GitHub, is not suspended, and SSM holds its id.
func (d *doctor) checkInstallations(ctx context.Context) {
	n := d.n
	live, err := d.aws.DescribeParameters(ctx, n.InstallationsPath())
	if err != nil {
		d.add("github.installations", Fail, "reading "+n.InstallationsPath()+" from SSM: "+oneLine(err.Error()), "grant ssm:DescribeParameters and ssm:GetParameters to these credentials")
		return
	}
	var liveNames []string
	for _, p := range live {
		liveNames = append(liveNames, p.Name)
	}
	values, err := d.aws.GetParameters(ctx, liveNames, false)
	if err != nil {
		d.add("github.installations", Fail, "reading "+n.InstallationsPath()+" from SSM: "+oneLine(err.Error()), "grant ssm:GetParameters to these credentials")
		return
	}
	declared := map[string]bool{}
	for _, in := range d.cfg.GitHub.Installations {
		declared[n.InstallationParam(in.Account)] = true
		d.checkInstallation(ctx, in, values)
	}
	for _, name := range liveNames {
		if !declared[name] {
			acct := strings.TrimPrefix(name, n.InstallationsPath()+"/")
			d.add("github.installation["+acct+"]", Warn,
				fmt.Sprintf("%s: SSM %s = %s, but %s does not list %s", acct, name, values[name].Value, d.cfg.Path, acct),
				"run `km configure github --discover --force` to record it, or `km apply` to delete the parameter")
		}
	}
}

func (d *doctor) checkInstallation(ctx context.Context, in profiles.Installation, values map[string]state.Parameter) {
	name := "github.installation[" + in.Account + "]"
	param := d.n.InstallationParam(in.Account)
	want := strconv.FormatInt(in.ID, 10)
	if d.appOK {
		got, err := d.app.GetInstallation(ctx, in.ID)
		switch {
		case errors.Is(err, githubapp.ErrInstallationNotFound):
			d.add(name, Fail, fmt.Sprintf("%s: installation %d no longer exists: the App was uninstalled from %s", in.Account, in.ID, in.Account),
				fmt.Sprintf("reinstall the App on %s, then run `km configure github --discover --force`; or remove %s from github.installations in %s", in.Account, in.Account, d.cfg.Path))
			return
		case err != nil:
			d.add(name, Fail, fmt.Sprintf("%s: looking up installation %d: %s", in.Account, in.ID, oneLine(err.Error())), "check github.apiURL and the network, then run km doctor again")
			return
		case got.Suspended():
			d.add(name, Fail, fmt.Sprintf("%s: installation %d is suspended (since %s): tokens cannot be minted", in.Account, in.ID, got.SuspendedAt.UTC().Format(time.RFC3339)),
				fmt.Sprintf("unsuspend it in the settings of %s (Settings → Applications → Installed GitHub Apps → Configure)", in.Account))
			return
		case !strings.EqualFold(got.Account, in.Account):
			d.add(name, Fail, fmt.Sprintf("%s: installation %d belongs to %s, not %s", in.Account, in.ID, got.Account, in.Account),
				"run `km configure github --discover --force` to record the right ids")
			return
		}
		defer func() {
			last := &d.r.Checks[len(d.r.Checks)-1]
			if last.Status == Pass {
				last.Message += fmt.Sprintf(" (%s, %s repositories)", strings.ToLower(got.AccountType), got.RepositorySelection)
			}
		}()
	}
	p, ok := values[param]
	switch {
	case !ok:
		d.add(name, Fail, fmt.Sprintf("%s: SSM %s is missing (km.yaml: installation %d)", in.Account, param, in.ID), fixApply)
	case p.Value != want:
		d.add(name, Fail, fmt.Sprintf("%s: SSM %s = %s but km.yaml says %d", in.Account, param, p.Value, in.ID), fixApply)
	default:
		d.add(name, Pass, fmt.Sprintf("%s: installation %d", in.Account, in.ID), "")
	}
}

// checkLegacy: the seed's single installation-id parameter points at the
// default installation.
func (d *doctor) checkLegacy(ctx context.Context) {
	const name = "github.legacy-installation-id"
	def, ok := d.cfg.InstallationFor(d.cfg.GitHub.DefaultInstallation)
	if !ok || len(d.cfg.GitHub.Installations) == 0 {
		return
	}
	param := d.n.LegacyInstallationParam()
	p, err := d.aws.GetParameter(ctx, param, false)
	switch {
	case state.IsNotFound(err):
		d.add(name, Warn, "SSM "+param+" is missing: older sandbox tooling that reads the legacy key finds no installation", fixApply)
	case err != nil:
		d.add(name, Fail, "reading SSM "+param+": "+oneLine(err.Error()), "grant ssm:GetParameter to these credentials")
	case p.Value != strconv.FormatInt(def.ID, 10):
		d.add(name, Fail, fmt.Sprintf("SSM %s = %s, but the default installation (%s) is %d", param, p.Value, def.Account, def.ID), fixApply)
	default:
		d.add(name, Pass, fmt.Sprintf("SSM %s = %d (%s, the default installation)", param, def.ID, def.Account), "")
	}
}
