package githubsim_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gitEnv runs git as a sandbox would: no user or system configuration, the
// credentials come from a GIT_ASKPASS script reading SIM_TOKEN.
type gitEnv struct {
	t       *testing.T
	dir     string
	askpass string
}

func newGitEnv(t *testing.T) *gitEnv {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the git CLI is required: %v", err)
	}
	dir := t.TempDir()
	askpass := filepath.Join(dir, "askpass.sh")
	script := "#!/bin/sh\ncase \"$1\" in\nUsername*) echo x-access-token ;;\n*) echo \"$SIM_TOKEN\" ;;\nesac\n"
	if err := os.WriteFile(askpass, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return &gitEnv{t: t, dir: dir, askpass: askpass}
}

// run runs git in dir with the token and returns the combined output.
func (g *gitEnv) run(token, dir string, args ...string) (string, error) {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_ASKPASS="+g.askpass, "SIM_TOKEN="+token,
		"GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"HOME="+g.dir, "GIT_AUTHOR_NAME=Sandbox", "GIT_AUTHOR_EMAIL=sb@example.invalid",
		"GIT_COMMITTER_NAME=Sandbox", "GIT_COMMITTER_EMAIL=sb@example.invalid",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (g *gitEnv) mustRun(token, dir string, args ...string) string {
	g.t.Helper()
	out, err := g.run(token, dir, args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestGitSmartHTTP(t *testing.T) {
	f := newFixture(t)
	for _, r := range [][2]string{{"acme", "api"}, {"acme", "web"}, {"bob", "private"}} {
		if err := f.sim.AddRepo(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	inst := f.sim.AddInstallation("acme", "Organization", nil, map[string]string{"contents": "write", "metadata": "read"})
	f.sim.AddInstallation("bob", "User", nil, nil)
	writer, _ := f.mint(inst, map[string]any{"repositories": []string{"api"}})
	reader, _ := f.mint(inst, map[string]any{"repositories": []string{"api"}, "permissions": map[string]string{"contents": "read"}})
	g := newGitEnv(t)

	// Clone and push with a write token.
	clone := filepath.Join(g.dir, "api")
	g.mustRun(writer, g.dir, "clone", "--quiet", f.sim.URL+"/acme/api.git", clone)
	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil || string(readme) != "# acme/api\n" {
		t.Fatalf("cloned README %q, %v", readme, err)
	}
	if err := os.WriteFile(filepath.Join(clone, "change.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An incompressible file bigger than http.postBuffer makes git send a
	// chunked request body.
	blob := make([]byte, 256<<10)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clone, "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	g.mustRun(writer, clone, "add", "change.txt", "blob.bin")
	g.mustRun(writer, clone, "commit", "--quiet", "-m", "sandbox change")
	g.mustRun(writer, clone, "-c", "http.postBuffer=65536", "push", "--quiet", "origin", "HEAD:main")
	head := strings.TrimSpace(g.mustRun("", clone, "rev-parse", "HEAD"))
	remote := strings.TrimSpace(g.mustRun("", g.dir, "--git-dir="+f.sim.RepoPath("acme", "api"), "rev-parse", "main"))
	if head != remote {
		t.Fatalf("server main %s, pushed %s", remote, head)
	}
	// Owner and name are case-insensitive, and .git is optional, as on GitHub.
	g.mustRun(writer, g.dir, "ls-remote", f.sim.URL+"/ACME/Api")

	tests := []struct {
		name    string
		token   string
		args    []string
		status  int // status of the refused request
		message string
	}{
		{"repo outside the token", writer, []string{"ls-remote", f.sim.URL + "/acme/web.git"}, 404, "not found"},
		{"other account", writer, []string{"ls-remote", f.sim.URL + "/bob/private.git"}, 404, "not found"},
		{"unknown repo", writer, []string{"ls-remote", f.sim.URL + "/acme/nope.git"}, 404, "not found"},
		{"read-only token pushes", reader, []string{"-C", clone, "push", f.sim.URL + "/acme/api.git", "HEAD:refs/heads/other"}, 403, "denied"},
		{"unknown token", "ghs_000000000000000000000000000000000000", []string{"ls-remote", f.sim.URL + "/acme/api.git"}, 401, "Authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.sim.Requests())
			out, err := g.run(tt.token, g.dir, tt.args...)
			if err == nil {
				t.Fatalf("git %v succeeded:\n%s", tt.args, out)
			}
			if !strings.Contains(out, tt.message) {
				t.Errorf("git output lacks %q:\n%s", tt.message, out)
			}
			if strings.Contains(out, tt.token) {
				t.Errorf("git output shows the token")
			}
			reqs := f.sim.Requests()[before:]
			if last := reqs[len(reqs)-1]; last.Status != tt.status {
				t.Errorf("last request %+v, want status %d", last, tt.status)
			}
		})
	}

	// The read-only token can fetch.
	g.mustRun(reader, clone, "fetch", "--quiet", f.sim.URL+"/acme/api.git", "main")

	// Revoked and expired tokens are refused with a Basic challenge.
	f.sim.RevokeAll(inst)
	if _, err := g.run(writer, g.dir, "ls-remote", f.sim.URL+"/acme/api.git"); err == nil {
		t.Error("revoked token still reads")
	}
	live, _ := f.mint(inst, nil)
	f.clock.Advance(time.Hour)
	if _, err := g.run(live, g.dir, "ls-remote", f.sim.URL+"/acme/api.git"); err == nil {
		t.Error("expired token still reads")
	}
}

func TestGitAuthChallenge(t *testing.T) {
	f := newFixture(t)
	if err := f.sim.AddRepo("acme", "api"); err != nil {
		t.Fatal(err)
	}
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api"}, nil)
	tok, _ := f.mint(inst, nil)
	refs := f.sim.URL + "/acme/api.git/info/refs?service=git-upload-pack"
	tests := []struct {
		name      string
		user      string
		pass      string
		status    int
		challenge bool
	}{
		{"no credentials", "", "", 401, true},
		{"wrong username", "git", tok, 401, true},
		{"unknown token", "x-access-token", "ghs_nope", 401, true},
		{"valid", "x-access-token", tok, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", refs, nil)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("WWW-Authenticate"); (got == `Basic realm="GitHub"`) != tt.challenge {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if tt.status == 200 && res.Header.Get("Content-Type") != "application/x-git-upload-pack-advertisement" {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
		})
	}
	if err := f.sim.AddRepo("acme", "api"); err == nil {
		t.Error("AddRepo of an existing repository succeeded")
	}
	if err := f.sim.AddRepo("acme", "../escape"); err == nil {
		t.Error("AddRepo accepted a path")
	}
}
