package sandbox

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// world is one kumo, one GitHub simulator (behind a recording proxy) and the
// km binary, shared by the subtests of TestGitEndToEnd.
type world struct {
	t        *testing.T
	ctx      context.Context
	km       string
	ssm      *state.AWS
	endpoint string // kumo
	sim      *githubsim.Server
	front    *front
	app      *githubapp.Client
	cfg      string // km.yaml
	canary   string
	tokens   []string // every token minted, for the leak checks
}

// box is one sandbox installed with km sandbox init.
type box struct {
	id, root, gitConfig, home, clones string
}

func (w *world) mint(inst int64, repos []string, contents string) string {
	w.t.Helper()
	tok, err := w.app.CreateToken(w.ctx, githubapp.TokenRequest{
		InstallationID: inst, Repositories: repos,
		Permissions: map[string]string{"contents": contents, "metadata": "read"},
	})
	if err != nil {
		w.t.Fatalf("minting a token: %v", err)
	}
	w.tokens = append(w.tokens, tok.Value)
	w.front.addSecret(tok.Value)
	return tok.Value
}

func (w *world) putToken(name, value string) {
	w.t.Helper()
	if _, err := w.ssm.PutParameter(w.ctx, state.PutParameterInput{Name: name, Type: "SecureString", Value: value, Overwrite: true}); err != nil {
		w.t.Fatalf("writing %s: %v", name, err)
	}
}

// initBox runs `km sandbox init` for id in fresh folders.
func (w *world) initBox(id string) *box {
	w.t.Helper()
	base := w.t.TempDir()
	b := &box{id: id, root: filepath.Join(base, "opt-km"), gitConfig: filepath.Join(base, "etc", "gitconfig"),
		home: filepath.Join(base, "home"), clones: filepath.Join(base, "work")}
	for _, d := range []string{filepath.Dir(b.gitConfig), b.home, b.clones} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			w.t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(w.ctx, w.km, "--config", w.cfg, "sandbox", "init", "--sandbox-id", id, "--root", b.root, "--git-config", b.gitConfig)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.home, "KM_GITHUB_WEB_URL=" + w.front.srv.URL + "/"}
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("km sandbox init %s: %v\n%s", id, err, out)
	}
	return b
}

// env is the whole environment of git in the sandbox: no token, no credential
// helper, only the git config km sandbox init wrote, the AWS endpoint (kumo)
// and dummy AWS keys, and a canary the /proc scan must find.
func (w *world) env(b *box) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.home,
		"LANG=C",
		"GIT_CONFIG_SYSTEM=" + b.gitConfig,
		"GIT_CONFIG_GLOBAL=" + filepath.Join(b.home, ".gitconfig"), // does not exist
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=km test", "GIT_AUTHOR_EMAIL=km@example.com",
		"GIT_COMMITTER_NAME=km test", "GIT_COMMITTER_EMAIL=km@example.com",
		"AWS_ENDPOINT_URL=" + w.endpoint,
		"AWS_ACCESS_KEY_ID=AKIDKUMOTEST", "AWS_SECRET_ACCESS_KEY=kumo-test-secret",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"KM_TEST_CANARY=" + w.canary,
	}
}

// git runs git in dir with the sandbox's environment.
func (w *world) git(b *box, dir string, args ...string) (stdout, stderr string, err error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Env = dir, w.env(b)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	for _, tok := range w.tokens {
		if strings.Contains(o.String()+e.String(), tok) {
			w.t.Errorf("git %s printed a token", strings.Join(args, " "))
		}
	}
	return o.String(), e.String(), err
}

func (w *world) mustGit(b *box, dir string, args ...string) string {
	w.t.Helper()
	out, errOut, err := w.git(b, dir, args...)
	if err != nil {
		w.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return strings.TrimSpace(out)
}

// remoteRef reads a ref straight from the simulator's bare repository.
func (w *world) remoteRef(owner, repo, ref string) string {
	w.t.Helper()
	cmd := exec.Command("git", "--git-dir", w.sim.RepoPath(owner, repo), "rev-parse", "--verify", "--quiet", ref)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "HOME=" + os.DevNull}
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out))
}

func (w *world) repoURL(owner, repo string) string {
	return w.front.srv.URL + "/" + owner + "/" + repo + ".git"
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

func TestGitEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	ctx := context.Background()
	ssm, _, endpoint := statetest.NewKumo(t)
	sim := githubsim.New()
	t.Cleanup(sim.Close)
	app, pem, err := sim.CreateApp("km-sandbox-test")
	if err != nil {
		t.Fatal(err)
	}
	key, err := githubapp.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{
		t: t, ctx: ctx, km: buildKM(t), ssm: ssm, endpoint: endpoint, sim: sim,
		app: githubapp.NewAppClient(githubapp.AppAuth{ClientID: app.ClientID, Signer: githubapp.NewRSASigner(key), Now: time.Now},
			githubapp.Options{APIURL: sim.URL}),
		canary: "km-canary-" + randomHex(t, 8),
	}
	w.front = newFront(t, sim.URL, w.canary)
	for _, r := range [][2]string{{"my-user", "app"}, {"my-user", "secret"}, {"my-org", "tools"}} {
		if err := sim.AddRepo(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	instUser := sim.AddInstallation("my-user", "User", nil, nil)
	instOrg := sim.AddInstallation("my-org", "Organization", nil, nil)

	// kumo shares one store per process: unique sandbox ids.
	suffix := randomHex(t, 3)
	rwID, roID, twoID := "sb-rw-"+suffix, "sb-ro-"+suffix, "sb-two-"+suffix
	w.cfg = writeDeclaration(t, t.TempDir(), "https://github.invalid", map[string]string{rwID: "rw", roID: "ro", twoID: "two"}, map[string]string{
		"rw":  "      allowedRepos: [my-user/app]\n      allowedRefs: [main, \"release/*\"]\n      permissions: [clone, fetch, push]\n",
		"ro":  "      allowedRepos: [my-user/app]\n      permissions: [clone, fetch]\n",
		"two": "      allowedRepos: [my-user/app, my-org/tools]\n      permissions: [clone, fetch]\n",
	})
	// The tokens km apply / the refresher would write: scoped to the profile.
	rwTok := w.mint(instUser, []string{"app"}, "write")
	w.putToken(sandboxtoken.Param(rwID, "my-user", true), rwTok)
	w.putToken(sandboxtoken.Param(roID, "my-user", true), w.mint(instUser, []string{"app"}, "read"))
	w.putToken(sandboxtoken.Param(twoID, "my-user", true), w.mint(instUser, []string{"app"}, "read"))
	orgTok := w.mint(instOrg, []string{"tools"}, "read")
	w.putToken(sandboxtoken.Param(twoID, "my-org", false), orgTok)

	rw, ro, two := w.initBox(rwID), w.initBox(roID), w.initBox(twoID)
	rwClone := filepath.Join(rw.clones, "app-"+w.canary)

	t.Run("init wrote the helper, the hook and the git config", func(t *testing.T) {
		for _, p := range []string{"bin/km-git-askpass", "hooks/pre-push", "etc/sandbox.json"} {
			if _, err := os.Stat(filepath.Join(rw.root, p)); err != nil {
				t.Error(err)
			}
		}
		for key, want := range map[string]string{
			"core.askPass":   filepath.Join(rw.root, "bin/km-git-askpass"),
			"core.hooksPath": filepath.Join(rw.root, "hooks"),
			"credential." + w.front.srv.URL + ".useHttpPath": "true",
		} {
			if got, _ := gitConfigGet(t, rw.gitConfig, "--get-all", key); got != want {
				t.Errorf("%s = %q, want %q", key, got, want)
			}
		}
		s, err := ReadSettings(filepath.Join(rw.root, "etc/sandbox.json"))
		if err != nil {
			t.Fatal(err)
		}
		if s.GitURL != w.front.srv.URL || s.Region != "us-east-1" || len(s.Owners) != 1 || s.Owners[0].Parameter != "/sandbox/"+rwID+"/github-token" {
			t.Errorf("settings %+v: want KM_GITHUB_WEB_URL's host, km.yaml's region and the seed's parameter", s)
		}
	})

	t.Run("clone an allowed repository", func(t *testing.T) {
		w.mustGit(rw, rw.clones, "clone", w.repoURL("my-user", "app"), rwClone)
		if _, err := os.Stat(filepath.Join(rwClone, "README.md")); err != nil {
			t.Fatal(err)
		}
		auths, _, _ := w.front.snapshot()
		if len(auths) == 0 || auths[len(auths)-1].User != Username || auths[len(auths)-1].Password != rwTok {
			t.Errorf("the simulator did not receive x-access-token and the sandbox's token")
		}
	})

	t.Run("clone outside the profile fails", func(t *testing.T) {
		// Same owner, repository outside the token's scope: GitHub says not found.
		_, errOut, err := w.git(rw, rw.clones, "clone", w.repoURL("my-user", "secret"))
		if err == nil || !strings.Contains(errOut, "not found") {
			t.Errorf("clone of my-user/secret: err %v, stderr %q; want a failure", err, errOut)
		}
		// Another owner: the askpass has no token for it and answers nothing.
		before, _, _ := w.front.snapshot()
		_, errOut, err = w.git(rw, rw.clones, "clone", w.repoURL("my-org", "tools"))
		if err == nil || !strings.Contains(errOut, "could not read Username") {
			t.Errorf("clone of my-org/tools: err %v, stderr %q; want no credentials", err, errOut)
		}
		if after, _, _ := w.front.snapshot(); len(after) != len(before) {
			t.Errorf("credentials were sent for another owner's repository")
		}
	})

	var pushed string
	t.Run("push to main and release/v2 succeeds", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(rwClone, "change.txt"), []byte("one\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		w.mustGit(rw, rwClone, "add", "change.txt")
		w.mustGit(rw, rwClone, "commit", "-q", "-m", "change")
		pushed = w.mustGit(rw, rwClone, "rev-parse", "HEAD")
		w.mustGit(rw, rwClone, "push", "origin", "HEAD:main")
		w.mustGit(rw, rwClone, "push", "origin", "HEAD:refs/heads/release/v2")
		for _, ref := range []string{"refs/heads/main", "refs/heads/release/v2"} {
			if got := w.remoteRef("my-user", "app", ref); got != pushed {
				t.Errorf("remote %s = %q, want %s", ref, got, pushed)
			}
		}
	})

	t.Run("push to dev is denied by the hook", func(t *testing.T) {
		_, errOut, err := w.git(rw, rwClone, "push", "origin", "HEAD:dev")
		if err == nil || !strings.Contains(errOut, "[km] Push to 'dev' denied\n") {
			t.Errorf("push to dev: err %v, stderr %q; want the denial", err, errOut)
		}
		if got := w.remoteRef("my-user", "app", "refs/heads/dev"); got != "" {
			t.Errorf("dev exists on the remote (%s)", got)
		}
	})

	t.Run("a tag named like an allowed branch is denied by the hook", func(t *testing.T) {
		w.mustGit(rw, rwClone, "tag", "main")
		_, errOut, err := w.git(rw, rwClone, "push", "origin", "refs/tags/main")
		if err == nil || !strings.Contains(errOut, "[km] Push to 'refs/tags/main' denied\n") {
			t.Errorf("push of the tag main: err %v, stderr %q; want the denial", err, errOut)
		}
		if got := w.remoteRef("my-user", "app", "refs/tags/main"); got != "" {
			t.Errorf("the tag main exists on the remote (%s)", got)
		}
	})

	t.Run("the hook is client-side: --no-verify bypasses it, deletions are checked", func(t *testing.T) {
		// The documented limit: the token may write, only the hook refuses.
		w.mustGit(rw, rwClone, "push", "--no-verify", "origin", "HEAD:dev")
		if got := w.remoteRef("my-user", "app", "refs/heads/dev"); got != pushed {
			t.Fatalf("--no-verify push did not reach the remote: dev = %q", got)
		}
		_, errOut, err := w.git(rw, rwClone, "push", "origin", "--delete", "dev")
		if err == nil || !strings.Contains(errOut, "[km] Push to 'dev' denied\n") {
			t.Errorf("deleting dev: err %v, stderr %q; want the denial", err, errOut)
		}
		if got := w.remoteRef("my-user", "app", "refs/heads/dev"); got != pushed {
			t.Errorf("dev was deleted (now %q)", got)
		}
	})

	t.Run("a clone-only profile cannot push", func(t *testing.T) {
		dir := filepath.Join(ro.clones, "app")
		w.mustGit(ro, ro.clones, "clone", w.repoURL("my-user", "app"), dir)
		if err := os.WriteFile(filepath.Join(dir, "ro.txt"), []byte("ro\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		w.mustGit(ro, dir, "add", "ro.txt")
		w.mustGit(ro, dir, "commit", "-q", "-m", "ro")
		// GitHub refuses the read-only token at the receive-pack discovery, before
		// the hook could run (the hook's own no-push refusal is in TestPrePushDecision).
		_, errOut, err := w.git(ro, dir, "push", "origin", "HEAD:main")
		if err == nil || !strings.Contains(errOut, "403") {
			t.Errorf("push: err %v, stderr %q; want GitHub's 403", err, errOut)
		}
		if got := w.remoteRef("my-user", "app", "refs/heads/main"); got != pushed {
			t.Errorf("main moved to %q", got)
		}
	})

	t.Run("a sandbox with two owners clones from both", func(t *testing.T) {
		w.mustGit(two, two.clones, "clone", w.repoURL("my-user", "app"))
		w.mustGit(two, two.clones, "clone", w.repoURL("my-org", "tools"))
		auths, _, _ := w.front.snapshot()
		var orgSeen bool
		for _, a := range auths {
			if strings.HasPrefix(a.Path, "/my-org/") {
				orgSeen = true
				if a.Password != orgTok {
					t.Errorf("a request for %s carried another token than my-org's", a.Path)
				}
			}
		}
		if !orgSeen {
			t.Error("no authenticated request for my-org")
		}
	})

	t.Run("a rotated token is used by the next fetch", func(t *testing.T) {
		newTok := w.mint(instUser, []string{"app"}, "write")
		w.putToken(sandboxtoken.Param(rwID, "my-user", true), newTok)
		if err := githubapp.NewTokenClient(rwTok, githubapp.Options{APIURL: sim.URL}).RevokeToken(ctx); err != nil {
			t.Fatal(err)
		}
		if sim.TokenLive(rwTok) || !sim.TokenLive(newTok) {
			t.Fatal("the old token must be revoked and the new one live")
		}
		w.mustGit(rw, rwClone, "fetch", "origin")
		auths, _, _ := w.front.snapshot()
		if last := auths[len(auths)-1]; last.Password != newTok {
			t.Errorf("the fetch did not use the new token")
		}
	})

	t.Run("the helper answers nothing for another host", func(t *testing.T) {
		helper := filepath.Join(rw.root, "bin/km-git-askpass")
		run := func(prompt string) (string, error) {
			cmd := exec.CommandContext(ctx, helper, prompt)
			cmd.Env = w.env(rw)
			out, err := cmd.Output()
			return string(out), err
		}
		for _, p := range []string{
			"Password for 'https://example.com/my-user/app.git': ",
			"Username for 'https://example.com/my-user/app.git': ",
			"Password for '" + strings.Replace(w.repoURL("my-user", "app"), "127.0.0.1", "localhost", 1) + "': ",
		} {
			out, err := run(p)
			if out != "" || exitCode(err) == 0 {
				t.Errorf("%q: printed %d bytes, exit %d; want nothing and non-zero", p, len(out), exitCode(err))
			}
		}
		// The same helper does answer for the sandbox's host (so the refusals above mean something).
		if out, err := run("Password for '" + w.repoURL("my-user", "app") + "': "); err != nil || strings.TrimSpace(out) == "" || !sim.TokenLive(strings.TrimSpace(out)) {
			t.Errorf("no live token for the sandbox's own host (err %v)", err)
		}
		// Through git: the same server under another host name gets no credentials.
		_, _, hostsBefore := w.front.snapshot()
		authsBefore, _, _ := w.front.snapshot()
		other := strings.Replace(w.repoURL("my-user", "app"), "127.0.0.1", "localhost", 1)
		if _, errOut, err := w.git(rw, rw.clones, "ls-remote", other); err == nil || !strings.Contains(errOut, "could not read Username") {
			t.Errorf("ls-remote %s: err %v, stderr %q; want no credentials", other, err, errOut)
		}
		authsAfter, _, hostsAfter := w.front.snapshot()
		if len(hostsAfter) == len(hostsBefore) || !strings.HasPrefix(hostsAfter[len(hostsAfter)-1], "localhost:") {
			t.Errorf("git did not reach the server as localhost: %v", hostsAfter[len(hostsBefore):])
		}
		if len(authsAfter) != len(authsBefore) {
			t.Error("credentials were sent to another host")
		}
	})

	t.Run("the token is in no file, git config or process environment", func(t *testing.T) {
		var roots []string
		for _, b := range []*box{rw, ro, two} {
			roots = append(roots, b.root, b.gitConfig, b.home)
			gitDirs, _ := filepath.Glob(filepath.Join(b.clones, "*", ".git"))
			if len(gitDirs) == 0 {
				t.Errorf("no clone under %s", b.clones)
			}
			roots = append(roots, gitDirs...)
		}
		hits, read := filesHolding(t, w.tokens, roots...)
		if len(hits) > 0 {
			t.Errorf("files holding a token: %v", hits)
		}
		if read < 20 {
			t.Errorf("read only %d files", read)
		}
		// Every authenticated request was preceded by a /proc scan made while git waited.
		auths, scans, _ := w.front.snapshot()
		if len(scans) != len(auths) || len(scans) < 10 {
			t.Fatalf("%d scans for %d authenticated requests", len(scans), len(auths))
		}
		for _, s := range scans {
			if len(s.Leaks) > 0 {
				t.Errorf("during %s a token was in %v", s.Path, s.Leaks)
			}
			// Positive controls: the scan did see git's environment and command line.
			if s.CanaryEnv == 0 || s.URLInCmdline == 0 {
				t.Errorf("during %s the scan saw git's environ %d times and its cmdline %d times (of %d processes); it must see both",
					s.Path, s.CanaryEnv, s.URLInCmdline, s.ProcsReadable)
			}
		}
	})
}
