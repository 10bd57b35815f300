package setup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/profiles/kmyaml"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/state"
)

// ConfigureOptions are km configure github's flags.
type ConfigureOptions struct {
	Discover       bool   // list every installation of the App and record one per account
	InstallationID int64  // with Account: record one installation by hand
	Account        string // the installation's account login
	AppClientID    string
	PrivateKeyFile string // path of the App's .pem (parsed as RSA before anything is written)
	// Force overwrites values that differ in km.yaml or SSM; without it such a
	// request is refused before anything is written.
	Force bool
	// Interactive allows prompts on Stdin (the caller sets it for a terminal
	// without --non-interactive): for missing values, and to confirm overwrites.
	Interactive bool
}

// ConfigureResult is what was recorded.
type ConfigureResult struct {
	Installations map[string]int64 // the installations requested (discovered or by hand)
	Overwrote     []string         // differing values that --force (or a yes) replaced
}

// Configure is km configure github: it works out the requested App client id,
// private key and installations, compares them with km.yaml and live SSM, and
// only when nothing differs (or Force) edits km.yaml (comments kept) and
// applies the config slice. If the apply fails, km.yaml is restored.
func Configure(ctx context.Context, e planapply.Env, o ConfigureOptions) (ConfigureResult, error) {
	var res ConfigureResult
	w := out(e)
	in := bufio.NewReader(orEmpty(e.Stdin))
	if err := o.check(); err != nil {
		return res, err
	}
	cfg, _, err := loadOrDefault(e)
	if err != nil {
		return res, err
	}
	if o.nothingRequested() {
		if !o.Interactive {
			return res, errors.New("nothing to configure: pass --discover, --installation-id N --account LOGIN, --app-client-id ID or --private-key-file F " +
				"(or --setup to create the App); see km configure github --help")
		}
		if err := o.prompt(in, w, cfg); err != nil {
			return res, err
		}
	}

	var newKey []byte
	if o.PrivateKeyFile != "" {
		if newKey, err = readKey(o.PrivateKeyFile); err != nil {
			return res, err
		}
	}
	aws, err := e.Connect(ctx, cfg)
	if err != nil {
		return res, err
	}
	n := names.New(cfg.Prefix)

	res.Installations = map[string]int64{}
	if o.Discover {
		found, err := discover(ctx, e, cfg, aws, n, o.AppClientID, newKey)
		if err != nil {
			return res, err
		}
		for _, inst := range found {
			if _, dup := res.Installations[inst.Account]; !dup {
				res.Installations[inst.Account] = inst.ID
			}
		}
		reportDiscovered(w, cfg, found)
	}
	if o.Account != "" {
		for acct := range res.Installations {
			if strings.EqualFold(acct, o.Account) {
				delete(res.Installations, acct)
			}
		}
		res.Installations[o.Account] = o.InstallationID
	}

	upd := kmyaml.GitHubUpdate{Installations: res.Installations}
	if o.AppClientID != "" {
		upd.AppClientID = &o.AppClientID
	}
	if o.PrivateKeyFile != "" {
		rel, err := relToConfig(cfg, o.PrivateKeyFile)
		if err != nil {
			return res, err
		}
		upd.PrivateKeyFile = &rel
	}

	// Everything that would change, compared before anything is written.
	differs := yamlDifferences(cfg, o, newKey, res.Installations)
	wouldBe, err := previewConfig(cfg, e, upd)
	if err != nil {
		return res, err
	}
	ssmDiffers, err := ssmDifferences(ctx, e, aws, wouldBe)
	if err != nil {
		return res, err
	}
	differs = append(differs, ssmDiffers...)
	if len(differs) > 0 && !o.Force {
		if !o.Interactive || !confirmOverwrite(in, w, differs) {
			return res, fmt.Errorf("refusing to overwrite differing values (nothing was written):\n  - %s\npass --force to overwrite them",
				strings.Join(differs, "\n  - "))
		}
	}
	res.Overwrote = differs

	original, err := kmyaml.SetGitHub(e.ConfigPath, upd)
	if err != nil {
		return res, fmt.Errorf("updating %s: %w", e.ConfigPath, err)
	}
	if err := loadAndApply(ctx, e, original); err != nil {
		return res, err
	}
	if len(res.Installations) > 0 {
		fmt.Fprintf(w, "\nRecorded %d installation(s) in %s and SSM (%s/*): %s\n",
			len(res.Installations), e.ConfigPath, n.InstallationsPath(), formatInstallations(res.Installations))
	}
	return res, nil
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}

func (o ConfigureOptions) check() error {
	switch {
	case o.InstallationID < 0:
		return fmt.Errorf("--installation-id %d: expected a positive integer, the installation id", o.InstallationID)
	case o.InstallationID != 0 && o.Account == "":
		return errors.New("--installation-id needs --account LOGIN, the account the App is installed on")
	case o.Account != "" && o.InstallationID == 0:
		return errors.New("--account needs --installation-id N (or use --discover to find the installations)")
	}
	return nil
}

func (o ConfigureOptions) nothingRequested() bool {
	return !o.Discover && o.Account == "" && o.AppClientID == "" && o.PrivateKeyFile == ""
}

// prompt asks for the App's client id and key file, then discovers.
func (o *ConfigureOptions) prompt(in *bufio.Reader, w io.Writer, cfg *profiles.Config) error {
	ask := func(q, def string) (string, error) {
		if def != "" {
			fmt.Fprintf(w, "%s [%s]: ", q, def)
		} else {
			fmt.Fprintf(w, "%s: ", q)
		}
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("reading the answer: %w; pass the values as flags with --non-interactive", err)
		}
		return strings.TrimSpace(line), nil
	}
	id, err := ask("GitHub App client ID (from the App's settings page)", cfg.GitHub.AppClientID)
	if err != nil {
		return err
	}
	if id != "" && id != cfg.GitHub.AppClientID {
		o.AppClientID = id
	}
	key, err := ask("Path of the App's private key .pem (empty: keep the current one)", "")
	if err != nil {
		return err
	}
	o.PrivateKeyFile = key
	o.Discover = true
	return nil
}

func confirmOverwrite(in *bufio.Reader, w io.Writer, differs []string) bool {
	fmt.Fprintf(w, "These values differ and would be overwritten:\n  - %s\nOverwrite them? Only 'yes' will be accepted: ", strings.Join(differs, "\n  - "))
	line, _ := in.ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// readKey reads and checks the App private key file (RSA, PKCS#1 or PKCS#8).
// The key's content never reaches an error.
func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the App private key file %s: %w", path, err)
	}
	if _, err := githubapp.ParsePrivateKey(b); err != nil {
		return nil, fmt.Errorf("%s: %w; nothing was written", path, err)
	}
	return b, nil
}

// discover lists the App's installations with the requested (or recorded) App
// credentials.
func discover(ctx context.Context, e planapply.Env, cfg *profiles.Config, aws *state.AWS, n names.Names, clientID string, key []byte) ([]githubapp.Installation, error) {
	if clientID == "" {
		clientID = cfg.GitHub.AppClientID
	}
	if clientID == "" {
		p, err := aws.GetParameter(ctx, n.AppClientIDParam(), false)
		switch {
		case err == nil:
			clientID = p.Value
		case !errors.Is(err, state.ErrNotFound):
			return nil, fmt.Errorf("reading the App client ID from SSM: %w", err)
		}
	}
	if key == nil {
		key = cfg.GitHub.PrivateKeyPEM
	}
	if key == nil {
		p, err := aws.GetParameter(ctx, n.PrivateKeyParam(), true)
		switch {
		case err == nil:
			key = []byte(p.Value)
		case !errors.Is(err, state.ErrNotFound):
			return nil, fmt.Errorf("reading the App private key from SSM %s: %w", n.PrivateKeyParam(), err)
		}
	}
	if clientID == "" || key == nil {
		return nil, fmt.Errorf("--discover needs the App's client ID and private key (from the flags, %s or SSM %s): %w",
			cfg.Path, n.ConfigPath(), reconcile.ErrGitHubNotConfigured)
	}
	c, err := e.AppClient(cfg, clientID, key)
	if err != nil {
		return nil, err
	}
	found, err := c.ListInstallations(ctx)
	if err != nil {
		return nil, fmt.Errorf("discovering installations: %w", err)
	}
	if len(found) == 0 {
		install := "the App's public page (Install)"
		if app, err := c.GetApp(ctx); err == nil && app.Slug != "" {
			install = InstallURL(cfg.GitHub.WebURL, app.Slug)
		}
		return nil, fmt.Errorf("the App %s has no installations yet: install it on the accounts that own your repositories at %s, then run `km configure github --discover --force` again", clientID, install)
	}
	return found, nil
}

func reportDiscovered(w io.Writer, cfg *profiles.Config, found []githubapp.Installation) {
	fmt.Fprintf(w, "Found %d installation(s) of the App:\n", len(found))
	seen := map[string]bool{}
	for _, in := range found {
		state := ""
		if in.Suspended() {
			state = " — SUSPENDED: unsuspend it in the account's settings (Installed GitHub Apps)"
		}
		fmt.Fprintf(w, "  %s (%s): installation %d%s\n", in.Account, strings.ToLower(in.AccountType), in.ID, state)
		seen[strings.ToLower(in.Account)] = true
	}
	for _, in := range cfg.GitHub.Installations {
		if !seen[strings.ToLower(in.Account)] {
			fmt.Fprintf(w, "Warning: %s lists %s (installation %d), which GitHub did not report: the App is no longer installed there; reinstall it, or remove the entry from %s\n",
				cfg.Path, in.Account, in.ID, cfg.Path)
		}
	}
	fmt.Fprintln(w)
}

// yamlDifferences lists the requested values that differ from km.yaml's.
func yamlDifferences(cfg *profiles.Config, o ConfigureOptions, newKey []byte, installations map[string]int64) []string {
	var out []string
	g := cfg.GitHub
	if o.AppClientID != "" && g.AppClientID != "" && o.AppClientID != g.AppClientID {
		out = append(out, fmt.Sprintf("%s github.appClientId is %s; requested %s", cfg.Path, g.AppClientID, o.AppClientID))
	}
	if newKey != nil && g.PrivateKeyPEM != nil {
		old, _ := githubapp.KeyFingerprint(g.PrivateKeyPEM)
		if fp, err := githubapp.KeyFingerprint(newKey); err == nil && fp != old {
			out = append(out, fmt.Sprintf("%s github.privateKeyFile holds the key %s; requested %s", cfg.Path, old, fp))
		}
	}
	for _, in := range g.Installations {
		for acct, id := range installations {
			if strings.EqualFold(acct, in.Account) && id != in.ID {
				out = append(out, fmt.Sprintf("%s github.installations.%s is %d; requested %d", cfg.Path, in.Account, in.ID, id))
			}
		}
	}
	return out
}

// previewConfig writes the edit to a temporary copy of km.yaml beside it and
// loads that: the declaration as it would be, validated, with km.yaml untouched.
func previewConfig(cfg *profiles.Config, e planapply.Env, upd kmyaml.GitHubUpdate) (*profiles.Config, error) {
	orig, err := os.ReadFile(cfg.File)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", cfg.Path, err)
	}
	tmp, err := os.CreateTemp(cfg.Dir, ".km-configure-*.yaml")
	if err != nil {
		return nil, fmt.Errorf("preparing the edit of %s: %w", cfg.Path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(orig)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return nil, fmt.Errorf("preparing the edit of %s: %w", cfg.Path, errors.Join(werr, cerr))
	}
	fix := func(err error) error {
		return errors.New(strings.ReplaceAll(err.Error(), tmp.Name(), cfg.Path) + "; nothing was written")
	}
	if _, err := kmyaml.SetGitHub(tmp.Name(), upd); err != nil {
		return nil, fix(err)
	}
	c, err := profiles.LoadForSetup(tmp.Name())
	if err != nil {
		return nil, fix(err)
	}
	c.ApplyEnv(e.Lookup)
	return c, nil
}

// ssmDifferences plans the config slice of the would-be declaration and lists
// every existing parameter it would overwrite or delete.
func ssmDifferences(ctx context.Context, e planapply.Env, aws *state.AWS, wouldBe *profiles.Config) ([]string, error) {
	c := *wouldBe
	c.Sandboxes = nil
	e.AWS = aws
	s, err := planapply.OpenWith(ctx, e, &c)
	if err != nil {
		return nil, err
	}
	pl, err := reconcile.MakePlan(ctx, &c, s.Runtime, reconcile.PlanOptions{Only: configSlice})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ch := range pl.Plan.Changes {
		switch ch.Action {
		case reconcile.Update, reconcile.Replace:
			if ch.IsSensitive("value") {
				out = append(out, fmt.Sprintf("SSM %s holds a different private key (%s); requested %s",
					ch.ID, strings.TrimPrefix(ch.Before["value"], "sensitive:"), strings.TrimPrefix(ch.After["value"], "sensitive:")))
			} else {
				out = append(out, fmt.Sprintf("SSM %s is %s; requested %s", ch.ID, ch.Before["value"], ch.After["value"]))
			}
		case reconcile.Delete:
			out = append(out, fmt.Sprintf("SSM %s (%s) would be deleted: %s", ch.ID, ch.Before["value"], ch.Reason))
		}
	}
	return out, nil
}

func formatInstallations(m map[string]int64) string {
	accts := make([]string, 0, len(m))
	for a := range m {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	parts := make([]string, len(accts))
	for i, a := range accts {
		parts[i] = fmt.Sprintf("%s=%d", a, m[a])
	}
	return strings.Join(parts, ", ")
}
