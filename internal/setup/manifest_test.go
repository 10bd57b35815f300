package setup_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/klankermaker/km/internal/configtest"
	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/pemkey"
	"github.com/klankermaker/km/internal/setup"
	"github.com/klankermaker/km/profiles"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for the test. A missing Chromium fails the
// test: CI installs it (.ci/install-packages.sh).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s (%v): install it with `apt-get update && apt-get install -y chromium` (or run .ci/install-packages.sh)", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return bctx
}

const initialYAML = `# my km declaration
region: us-east-1
prefix: %s   # test prefix
github:
  # the App comes from km github
  installations: {}
`

// TestManifestFlowInBrowser runs km github end to end in headless Chromium:
// km's local page posts the manifest to the simulator's /settings/apps/new,
// which redirects back with a code; km converts it, writes the key (0600),
// records the App in km.yaml (comments kept) and applies the config slice.
// With JavaScript disabled the form is submitted by clicking its button.
func TestManifestFlowInBrowser(t *testing.T) {
	bctx := browser(t)
	for _, tc := range []struct {
		name string
		js   bool
		org  string
	}{
		{name: "javascript auto-submits", js: true},
		{name: "javascript off, button clicked, organization", js: false, org: "my-org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, githubsim.WithOpenAPIValidation())
			f.Write("km.yaml", fmt.Sprintf(initialYAML, f.Prefix))
			tab, cancel := chromedp.NewContext(bctx)
			defer cancel()

			browserDone := make(chan error, 1)
			var pageText, beforeClick string
			opener := func(_ context.Context, local string) error {
				go func() {
					browserDone <- func() error {
						if !tc.js {
							if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
								return fmt.Errorf("disabling JavaScript: %w", err)
							}
						}
						if err := chromedp.Do(tab, chromedp.Navigate(local)); err != nil {
							return fmt.Errorf("opening %s: %w", local, err)
						}
						if !tc.js {
							var err error
							if beforeClick, err = chromedp.Run(tab, chromedp.Location()); err != nil {
								return err
							}
							if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("create-app"))); err != nil {
								return fmt.Errorf("clicking the submit button: %w", err)
							}
						}
						if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
							return fmt.Errorf("waiting for the callback page: %w", err)
						}
						var err error
						pageText, err = chromedp.Run(tab, chromedp.Text(chromedp.CSS("body")))
						return err
					}()
				}()
				return nil
			}
			ctx, cancelRun := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancelRun()
			res, err := setup.CreateApp(ctx, f.Env(), setup.CreateAppOptions{Org: tc.org, Name: "km-test-" + f.Prefix, OpenBrowser: opener})
			if err != nil {
				var berr error
				select {
				case berr = <-browserDone:
				default:
				}
				t.Fatalf("km github: %v\nbrowser: %v (page %q)\nsimulator requests: %+v\noutput:\n%s", err, berr, pageText, f.Sim.Requests(), f.Out.String())
			}
			if err := <-browserDone; err != nil {
				t.Fatalf("browser: %v", err)
			}

			app := f.Sim.App()
			if res.App.ClientID != app.ClientID || res.App.ID != app.ID {
				t.Fatalf("created %s (%d); simulator has %s (%d)", res.App.ClientID, res.App.ID, app.ClientID, app.ID)
			}
			if !tc.js && !strings.HasPrefix(beforeClick, "http://127.0.0.1:") {
				t.Fatalf("with JavaScript off the page left km before the click (at %s)", beforeClick)
			}
			wantOwner := "octocat"
			if tc.org != "" {
				wantOwner = tc.org
			}
			if res.App.Owner != wantOwner {
				t.Errorf("App owner %s, want %s", res.App.Owner, wantOwner)
			}

			// The manifest GitHub received.
			ms := f.Sim.Manifests()
			if len(ms) != 1 {
				t.Fatalf("simulator received %d manifests, want 1", len(ms))
			}
			m := ms[0]
			perms, _ := m["default_permissions"].(map[string]any)
			redirect, _ := m["redirect_url"].(string)
			if m["public"] != true || perms["contents"] != "write" || perms["metadata"] != "read" || len(perms) != 2 {
				t.Errorf("manifest public/permissions: %v / %v", m["public"], perms)
			}
			if _, hook := m["hook_attributes"]; hook {
				t.Errorf("manifest has a webhook: %v", m["hook_attributes"])
			}
			if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/callback$`).MatchString(redirect) {
				t.Errorf("redirect_url %q, want http://127.0.0.1:PORT/callback", redirect)
			}

			// The key file, km.yaml and SSM.
			st, err := os.Stat(res.KeyFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("key file %s: %v, mode %v; want 0600", res.KeyFile, err, st.Mode().Perm())
			}
			if filepath.Dir(res.KeyFile) != filepath.Join(f.XDG, "km") {
				t.Errorf("key file %s, want it under $XDG_CONFIG_HOME/km (%s), not beside km.yaml", res.KeyFile, filepath.Join(f.XDG, "km"))
			}
			if dst, err := os.Stat(filepath.Dir(res.KeyFile)); err != nil || dst.Mode().Perm() != 0o700 {
				t.Errorf("key directory mode %v %v, want 0700", dst.Mode().Perm(), err)
			}
			if pems, _ := filepath.Glob(filepath.Join(f.Dir, "*.pem")); len(pems) != 0 {
				t.Errorf("a key was written beside km.yaml: %v", pems)
			}
			yml := f.Read("km.yaml")
			for _, keep := range []string{"# my km declaration", "# test prefix", "# the App comes from km github"} {
				if !strings.Contains(yml, keep) {
					t.Errorf("km.yaml lost %q:\n%s", keep, yml)
				}
			}
			cfg, err := profiles.Load(f.ConfigPath)
			if err != nil {
				t.Fatalf("km.yaml after km github: %v", err)
			}
			fp, _ := pemkey.Fingerprint(res.App.PEM)
			if cfg.GitHub.AppClientID != app.ClientID || cfg.GitHub.AppID != app.ID || cfg.GitHub.KeyFingerprint != fp {
				t.Errorf("km.yaml github = %s/%d/%s; want %s/%d/%s", cfg.GitHub.AppClientID, cfg.GitHub.AppID, cfg.GitHub.KeyFingerprint, app.ClientID, app.ID, fp)
			}
			if p, ok := f.Param("/" + f.Prefix + "/config/github/app-client-id"); !ok || p.Value != app.ClientID {
				t.Errorf("SSM app-client-id = %q (present %v), want %s", p.Value, ok, app.ClientID)
			}
			if p, ok := f.Param("/" + f.Prefix + "/config/github/private-key"); !ok || p.Type != "SecureString" || p.Value != string(res.App.PEM) {
				t.Errorf("SSM private-key: present %v, type %s, holds the App's key: %v", ok, p.Type, p.Value == string(res.App.PEM))
			}

			install := f.Sim.URL + "/apps/" + res.App.Slug + "/installations/new"
			if !strings.Contains(f.Out.String(), install) || !strings.Contains(pageText, install) {
				t.Errorf("install URL %s missing from the output or the page:\n%s\npage: %s", install, f.Out.String(), pageText)
			}
			configtest.NoSecret(t, "km github output", f.Out.String(), res.App.PEM)
			configtest.NoSecret(t, "the callback page", pageText, res.App.PEM)
			if errs := f.Sim.ValidationErrors(); len(errs) > 0 {
				t.Errorf("OpenAPI validation: %v", errs)
			}
			path := "/settings/apps/new"
			if tc.org != "" {
				path = "/organizations/" + tc.org + path
			}
			if n := f.Sim.CountRequests("POST", path); n != 1 {
				t.Errorf("%d POSTs to %s, want 1", n, path)
			}
		})
	}
}

var (
	actionRe   = regexp.MustCompile(`action="([^"]+)"`)
	manifestRe = regexp.MustCompile(`name="manifest" value="([^"]+)"`)
)

// TestManifestCallbackChecksState: a callback with the wrong state is refused
// and does not end the flow; the one GitHub sends (right state) does.
func TestManifestCallbackChecksState(t *testing.T) {
	sim := githubsim.New()
	defer sim.Close()
	hc := &http.Client{Timeout: 10 * time.Second}
	var forged int
	opener := func(_ context.Context, local string) error {
		go func() {
			resp, err := hc.Get(local)
			if err != nil {
				t.Errorf("GET %s: %v", local, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			action, manifest := actionRe.FindSubmatch(body), manifestRe.FindSubmatch(body)
			if action == nil || manifest == nil {
				t.Errorf("the local page has no form with the manifest:\n%s", body)
				return
			}
			// A forged callback: a code of the attacker's, another state.
			r, err := hc.Get(strings.TrimSuffix(local, "/") + "/callback?code=abc123&state=forged")
			if err == nil {
				forged = r.StatusCode
				r.Body.Close()
			}
			// The real submission (the browser's part).
			resp, err = hc.PostForm(html.UnescapeString(string(action[1])), url.Values{"manifest": {html.UnescapeString(string(manifest[1]))}})
			if err != nil {
				t.Errorf("posting the form: %v", err)
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
	creds, err := setup.RunManifestFlow(context.Background(), setup.ManifestOptions{
		WebURL: sim.URL, Name: "state-test", OpenBrowser: opener, Timeout: 30 * time.Second,
		Converter: githubapp.NewAnonymousClient(githubapp.Options{APIURL: sim.URL}),
	})
	if err != nil {
		t.Fatalf("manifest flow: %v", err)
	}
	if forged != http.StatusBadRequest {
		t.Errorf("forged callback answered %d, want 400", forged)
	}
	if creds.ClientID != sim.App().ClientID || len(creds.PEM) == 0 {
		t.Errorf("flow returned %v; simulator App is %s", creds, sim.App().ClientID)
	}
	if n := sim.CountRequests("POST", "/app-manifests/"); n != 1 {
		t.Errorf("%d conversions, want 1 (the forged code must not be exchanged)", n)
	}
}

// TestManifestTimeoutAndNoBrowser: --no-browser prints the local URL and opens
// nothing; with nobody completing the flow it ends with a clear timeout.
func TestManifestTimeoutAndNoBrowser(t *testing.T) {
	var out strings.Builder
	opened := false
	_, err := setup.RunManifestFlow(context.Background(), setup.ManifestOptions{
		WebURL: "http://127.0.0.1:1", NoBrowser: true, Timeout: 50 * time.Millisecond, Out: &out,
		OpenBrowser: func(context.Context, string) error { opened = true; return nil },
		Converter:   githubapp.NewAnonymousClient(githubapp.Options{APIURL: "http://127.0.0.1:1"}),
	})
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms") || !strings.Contains(err.Error(), "km github again") {
		t.Fatalf("error %v, want a timeout that says what to do", err)
	}
	if opened {
		t.Error("--no-browser opened a browser")
	}
	if !regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/`).MatchString(out.String()) {
		t.Errorf("output does not show the local URL:\n%s", out.String())
	}
}

// TestCreateAppRefusesExistingApp: with an App already in km.yaml, km github
// without --force stops before the flow starts.
func TestCreateAppRefusesExistingApp(t *testing.T) {
	f := newFixture(t)
	f.Write("km.yaml", fmt.Sprintf("prefix: %s\ngithub:\n  appClientId: Iv1.existing\n", f.Prefix))
	opened := false
	_, err := setup.CreateApp(context.Background(), f.Env(), setup.CreateAppOptions{
		OpenBrowser: func(context.Context, string) error { opened = true; return nil }, Timeout: time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "Iv1.existing") {
		t.Fatalf("error %v, want a refusal naming the App and --force", err)
	}
	if opened || len(f.Sim.Manifests()) != 0 {
		t.Error("the flow started despite the refusal")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Error("refusal came from a timeout")
	}
}

// km github refuses, before creating anything, to put the App's key in a
// git work tree (a dotfiles repository tracking ~/.config).
func TestKeyDirRefusesAGitWorkTree(t *testing.T) {
	f := newFixture(t)
	f.Write("km.yaml", "region: us-east-1\nprefix: "+f.Prefix+"\n")
	if err := os.MkdirAll(filepath.Join(f.XDG, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := setup.CreateApp(context.Background(), f.Env(), setup.CreateAppOptions{NoBrowser: true, Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "git work tree "+f.XDG) || !strings.Contains(err.Error(), "XDG_CONFIG_HOME") {
		t.Fatalf("km github with XDG_CONFIG_HOME in a git work tree: %v", err)
	}
	if len(f.Sim.Manifests()) != 0 || f.Sim.CountRequests("", "/") != 0 {
		t.Error("the manifest flow ran although the key had nowhere safe to go")
	}
	if _, err := os.Stat(filepath.Join(f.XDG, "km")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the key directory was created: %v", err)
	}

	e := f.Env()
	e.Getenv = func(k string) string {
		if k == "HOME" {
			return f.Dir
		}
		return ""
	}
	dir, err := setup.KeyDir(e)
	if err != nil || dir != filepath.Join(f.Dir, ".config", "km") {
		t.Errorf("KeyDir without XDG_CONFIG_HOME: %s %v, want $HOME/.config/km", dir, err)
	}
}
