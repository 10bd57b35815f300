package setup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/profiles/kmyaml"
	"github.com/klankermaker/km/state"
)

// CreateAppOptions are km github's flags.
type CreateAppOptions struct {
	Org       string
	Name      string // default km-sandbox-XXXXXX
	NoBrowser bool
	// Force replaces an App already recorded in km.yaml or SSM.
	Force bool
	// OpenBrowser and Timeout are passed to the manifest flow (tests).
	OpenBrowser func(ctx context.Context, url string) error
	Timeout     time.Duration
}

// CreateAppResult is what km github did.
type CreateAppResult struct {
	App        githubapp.AppCredentials // PEM included: never print it
	KeyFile    string                   // where the private key was written (mode 0600)
	InstallURL string
}

// CreateApp is km github: it refuses to replace a recorded App without Force
// (before anything happens), runs the manifest flow, writes the private key
// with mode 0600 under the user's config directory (KeyDir: never next to
// km.yaml, never in a git work tree), records appClientId, appId and
// privateKeyFile in km.yaml (comments kept), applies the config slice and
// prints the URL to install the App.
func CreateApp(ctx context.Context, e planapply.Env, o CreateAppOptions) (CreateAppResult, error) {
	w := out(e)
	cfg, _, err := loadOrDefault(e)
	if err != nil {
		return CreateAppResult{}, err
	}
	if !o.Force {
		if err := refuseExistingApp(ctx, e, cfg); err != nil {
			return CreateAppResult{}, err
		}
	}
	if o.Name == "" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		o.Name = "km-sandbox-" + hex.EncodeToString(b)
	}
	keyDir, err := KeyDir(e)
	if err != nil {
		return CreateAppResult{}, err
	}
	conv := githubapp.NewAnonymousClient(e.GitHubOptions(cfg))
	creds, err := RunManifestFlow(ctx, ManifestOptions{
		WebURL: cfg.GitHub.WebURL, Org: o.Org, Name: o.Name, Converter: conv,
		NoBrowser: o.NoBrowser, OpenBrowser: o.OpenBrowser, Timeout: o.Timeout, Out: w,
	})
	if err != nil {
		return CreateAppResult{}, err
	}
	res := CreateAppResult{App: creds, InstallURL: InstallURL(cfg.GitHub.WebURL, creds.Slug)}
	fmt.Fprintf(w, "\nCreated the GitHub App %s (id %d, client ID %s).\n", creds.Slug, creds.ID, creds.ClientID)

	keyPath, err := writeKeyFile(keyDir, creds.Slug, creds.PEM)
	if err != nil {
		return res, err
	}
	res.KeyFile = keyPath
	fmt.Fprintf(w, "Wrote its private key to %s (mode 0600).\n", keyPath)

	rel, err := relToConfig(cfg, keyPath)
	if err != nil {
		return res, err
	}
	id, appID := creds.ClientID, creds.ID
	upd := kmyaml.GitHubUpdate{AppClientID: &id, PrivateKeyFile: &rel}
	if appID > 0 {
		upd.AppID = &appID
	}
	original, err := kmyaml.SetGitHub(e.ConfigPath, upd)
	if err != nil {
		return res, fmt.Errorf("recording the App in %s: %w; the key is in %s: record it with `km configure github --app-client-id %s --private-key-file %s --force`", e.ConfigPath, err, keyPath, id, keyPath)
	}
	fmt.Fprintf(w, "Recorded appClientId, appId and privateKeyFile in %s.\n\n", e.ConfigPath)
	if err := loadAndApply(ctx, e, original); err != nil {
		return res, fmt.Errorf("%w; the App exists and its key is in %s: fix the cause, then run `km configure github --app-client-id %s --private-key-file %s --force`", err, keyPath, id, keyPath)
	}
	fmt.Fprintf(w, "\nNext: install the App on every account that owns repositories your sandboxes need:\n\n  %s\n\n"+
		"then record the installations with:\n\n  km configure github --discover --force\n", res.InstallURL)
	return res, nil
}

// loadAndApply reloads km.yaml after an edit and applies the config slice;
// on failure km.yaml gets its original bytes back.
func loadAndApply(ctx context.Context, e planapply.Env, original []byte) error {
	cfg, err := loadForSetup(e)
	if err == nil {
		err = applyConfigSlice(ctx, e, cfg)
	}
	if err != nil {
		if rerr := restoreConfig(e.ConfigPath, original); rerr != nil {
			return fmt.Errorf("%w (and restoring %s failed: %v)", err, e.ConfigPath, rerr)
		}
		return fmt.Errorf("%w; %s was restored to what it was", err, e.ConfigPath)
	}
	return nil
}

// refuseExistingApp fails when km.yaml or SSM already names an App.
func refuseExistingApp(ctx context.Context, e planapply.Env, cfg *profiles.Config) error {
	if cfg.GitHub.AppClientID != "" {
		return fmt.Errorf("%s already records the GitHub App %s; km github creates a new App and replaces it: pass --force to do that, "+
			"or run `km configure github --discover --force` to use the existing App", cfg.Path, cfg.GitHub.AppClientID)
	}
	aws, err := e.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	n := names.New(cfg.Prefix)
	p, err := aws.GetParameter(ctx, n.AppClientIDParam(), false)
	switch {
	case err == nil:
		return fmt.Errorf("SSM %s already holds the GitHub App %s; km github creates a new App and replaces it: pass --force to do that, "+
			"or record the existing App with `km configure github --app-client-id %s --private-key-file F`", n.AppClientIDParam(), p.Value, p.Value)
	case errors.Is(err, state.ErrNotFound):
		return nil
	default:
		return fmt.Errorf("checking for an existing App in SSM: %w", err)
	}
}

// writeKeyFile writes the PEM to {dir}/{slug}.private-key.pem (or .N.private-key.pem
// when that exists) with mode 0600, never replacing a file.
func writeKeyFile(dir, slug string, pemBytes []byte) (string, error) {
	base := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, slug)
	if base == "" {
		base = "github-app"
	}
	for i := 1; i < 1000; i++ {
		name := base + ".private-key.pem"
		if i > 1 {
			name = base + "." + strconv.Itoa(i) + ".private-key.pem"
		}
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("writing the App private key to %s: %w", p, err)
		}
		_, werr := f.Write(pemBytes)
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			os.Remove(p)
			return "", fmt.Errorf("writing the App private key to %s: %w", p, err)
		}
		return p, nil
	}
	return "", fmt.Errorf("writing the App private key: %s/%s.private-key.pem and 998 numbered variants exist; remove old keys", dir, base)
}

// KeyDir is where km github writes App private keys: $XDG_CONFIG_HOME/km,
// or $HOME/.config/km when XDG_CONFIG_HOME is unset (the XDG base
// directory default), created with mode 0700. A directory inside a git work
// tree (a dotfiles repository that tracks ~/.config, say) is refused: the
// key would be one `git add` away from a commit.
func KeyDir(e planapply.Env) (string, error) {
	base := e.Lookup("XDG_CONFIG_HOME")
	if base == "" || !filepath.IsAbs(base) { // the spec: a relative value is ignored
		home := e.Lookup("HOME")
		if home == "" {
			return "", fmt.Errorf("km github writes the App's private key under $XDG_CONFIG_HOME/km or $HOME/.config/km, and neither XDG_CONFIG_HOME nor HOME is set; set XDG_CONFIG_HOME to an absolute directory outside any git work tree")
		}
		base = filepath.Join(home, ".config")
	}
	dir := filepath.Join(base, "km")
	if repo := gitWorkTree(dir); repo != "" {
		return "", fmt.Errorf("km github would write the App's private key to %s, which is inside the git work tree %s; set XDG_CONFIG_HOME to a directory outside any git work tree", dir, repo)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s for the App's private key: %w; set XDG_CONFIG_HOME to a writable directory", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("restricting %s to its owner: %w", dir, err)
	}
	return dir, nil
}

// gitWorkTree returns the top of the git work tree dir is in (a folder
// with a .git entry, directory or file), or "".
func gitWorkTree(dir string) string {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
