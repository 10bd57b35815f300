package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/state/statetest"
)

// TestGithubCommandExitCode runs the built km github --no-browser against kumo
// and the GitHub simulator, opens the URL it prints in headless Chromium (the
// manifest flow posts to the simulator and comes back to km's callback), and
// checks that km exits 0 and records the App in km.yaml, printing no key, on a
// km.yaml that already declares a sandbox.
// Chromium is installed by make deps (.ci/install-packages.sh).
func TestGithubCommandExitCode(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is not installed at %s (%v): run make deps (.ci/install-packages.sh)", chromium, err)
	}
	_, _, kumoURL := statetest.NewKumo(t)
	sim := githubsim.New()
	t.Cleanup(sim.Close)
	tag := make([]byte, 4)
	if _, err := rand.Read(tag); err != nil {
		t.Fatal(err)
	}
	run := hex.EncodeToString(tag)
	dir := t.TempDir()
	bin := kmBinary(t)
	cfg := filepath.Join(dir, "km.yaml")
	// Sandboxes are declared already: km github must still run (it is the
	// first step of the ErrGitHubNotConfigured fix).
	decl := "region: us-east-1\nprefix: g" + run + "\nsandboxes:\n  - id: sb-" + run + "\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\n"
	if err := os.WriteFile(cfg, []byte(decl), 0o600); err != nil {
		t.Fatal(err)
	}
	profile := "apiVersion: klankermaker.ai/v1alpha1\nkind: SandboxProfile\nmetadata: {name: p}\nspec:\n  sourceAccess:\n    github:\n      allowedRepos: [my-user/my-repo]\n      permissions: [clone]\n"
	if err := os.MkdirAll(filepath.Join(dir, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles", "p.yaml"), []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "km-refresher.zip"), []byte("refresher "+run), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "github", "--no-browser", "--name", "km-test-"+run, "--config", cfg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+kumoURL, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDKUMOTEST", "AWS_SECRET_ACCESS_KEY=kumo-test-secret",
		"KM_GITHUB_API_URL="+sim.URL, "KM_GITHUB_WEB_URL="+sim.URL, "NO_COLOR=1", "HOME="+dir,
		"KM_REFRESHER_ZIP="+filepath.Join(dir, "km-refresher.zip"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read km's output until the local URL, then keep collecting the rest.
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	urlRe := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/\S*`)
	local := ""
	for local == "" && sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		local = urlRe.FindString(sc.Text())
	}
	if local == "" {
		_ = cmd.Wait()
		t.Fatalf("km github printed no local URL:\n%s\nstderr:\n%s", out.String(), stderr.String())
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stdout); rest <- string(b) }()

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromium), chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	err = chromedp.Do(tab, chromedp.Navigate(local))
	if err == nil {
		err = chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("done")))
	}
	if err != nil {
		t.Fatalf("browser on %s: %v\nkm output:\n%s\nstderr:\n%s", local, err, out.String(), stderr.String())
	}
	out.WriteString(<-rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("km github: %v (want exit 0)\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	}
	app := sim.App()
	yml, err := os.ReadFile(cfg)
	if err != nil || !strings.Contains(string(yml), "appClientId: "+app.ClientID) {
		t.Errorf("km.yaml does not record the App %s (%v):\n%s", app.ClientID, err, yml)
	}
	for _, s := range []string{out.String(), stderr.String()} {
		if strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "BEGIN") {
			t.Errorf("km github printed key material:\n%s", s)
		}
	}
}
