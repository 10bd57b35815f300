package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/sandbox"
)

// buildKM builds the real cmd/km once per test binary run into dir.
func buildKM(t testing.TB, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build km: %v", err)
	}
	out := filepath.Join(dir, "km")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if msg, err := exec.CommandContext(ctx, goTool, "build", "-o", out, "github.com/klankermaker/km/cmd/km").CombinedOutput(); err != nil {
		t.Fatalf("building cmd/km: %v\n%s", err, msg)
	}
	return out
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer is a goroutine-safe buffer for a subprocess's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runningProxy is a `km proxy` process.
type runningProxy struct {
	cmd    *exec.Cmd
	addr   string // HOST:PORT it printed
	stderr *syncBuffer
	caPEM  string // path of its CA certificate
	done   chan error
}

// startProxy runs km proxy with settings and waits for its "listening" line.
func startProxy(t testing.TB, km, settingsPath, caDir, upstreamCA string) *runningProxy {
	t.Helper()
	args := []string{"proxy", "--settings", settingsPath, "--listen", "127.0.0.1:0", "--ca-dir", caDir, "--log", "json"}
	if upstreamCA != "" {
		args = append(args, "--upstream-ca", upstreamCA)
	}
	cmd := exec.Command(km, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &runningProxy{cmd: cmd, stderr: &syncBuffer{}, caPEM: filepath.Join(caDir, "ca.pem"), done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case l := <-lines:
		addr, ok := strings.CutPrefix(l, "km proxy: listening on ")
		if !ok {
			t.Fatalf("km proxy printed %q first, want \"km proxy: listening on ADDR\"", l)
		}
		p.addr = addr
	case err := <-p.done:
		p.done <- err
		t.Fatalf("km proxy exited before listening: %v\n%s", err, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("km proxy did not print its address in 30s; stderr:\n%s", p.stderr.String())
	}
	return p
}

// stop sends SIGTERM and returns the exit error (nil for a clean stop).
func (p *runningProxy) stop(t testing.TB) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("km proxy did not stop within 10s of SIGTERM")
		return nil
	}
}

// logLine is one decision line of the proxy's JSON log.
type logLine struct {
	Msg      string `json:"msg"`
	Sandbox  string `json:"sandbox"`
	Method   string `json:"method"`
	Host     string `json:"host"`
	Path     string `json:"path"`
	Repo     string `json:"repo"`
	Ref      string `json:"ref"`
	Decision string `json:"decision"`
	Rule     string `json:"rule"`
	Reason   string `json:"reason"`
}

// decisions parses every line of the log as JSON (a line that is not JSON fails).
func (p *runningProxy) decisions(t testing.TB) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		if l == "" {
			continue
		}
		var d logLine
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if d.Msg == "km proxy decision" {
			out = append(out, d)
		}
	}
	return out
}

// simWorld is a GitHub simulator (TLS or plain) with an App installed on
// my-user, repositories app and secret, and a token that can read and write
// both: only the proxy stands between the sandbox and secret or dev.
type simWorld struct {
	sim      *githubsim.Server
	token    string
	caFile   string // the simulator's CA (TLS mode)
	settings string // the sandbox settings file for km proxy
	client   *http.Client
}

func newSimWorld(t testing.TB, useTLS bool, refs []string) *simWorld {
	t.Helper()
	var sim *githubsim.Server
	if useTLS {
		sim = githubsim.NewTLS(githubsim.WithKeyBits(1024))
	} else {
		sim = githubsim.New(githubsim.WithKeyBits(1024))
	}
	t.Cleanup(sim.Close)
	w := &simWorld{sim: sim, client: http.DefaultClient}
	dir := t.TempDir()
	if useTLS {
		w.caFile = filepath.Join(dir, "sim-ca.pem")
		if err := os.WriteFile(w.caFile, sim.CACertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(sim.CACertPEM())
		w.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	app, pem, err := sim.CreateApp("km-proxy-test")
	if err != nil {
		t.Fatal(err)
	}
	key, err := githubapp.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"app", "secret"} {
		if err := sim.AddRepo("my-user", r); err != nil {
			t.Fatal(err)
		}
	}
	inst := sim.AddInstallation("my-user", "User", nil, nil)
	ac := githubapp.NewAppClient(githubapp.AppAuth{ClientID: app.ClientID, Signer: githubapp.NewRSASigner(key), Now: time.Now},
		githubapp.Options{APIURL: sim.URL, HTTPClient: w.client})
	tok, err := ac.CreateToken(context.Background(), githubapp.TokenRequest{
		InstallationID: inst, Permissions: map[string]string{"contents": "write", "metadata": "read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.token = tok.Value
	s := sandbox.Settings{
		Version: sandbox.SettingsVersion, SandboxID: "sb-proxy-" + randomHex(t, 3), Profile: "p", Prefix: "km",
		GitURL: sim.URL, APIURL: sim.URL, AllowedRepos: []string{"my-user/app"}, AllowedRefs: refs, Push: true,
		Owners: []sandbox.OwnerParam{{Owner: "my-user", Parameter: "/sandbox/x/github-token"}},
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	w.settings = filepath.Join(dir, "sandbox.json")
	if err := os.WriteFile(w.settings, s.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// remoteRef reads a ref of the simulator's bare repository ("" if absent).
func (w *simWorld) remoteRef(repo, ref string) string {
	cmd := exec.Command("git", "--git-dir", w.sim.RepoPath("my-user", repo), "rev-parse", "--verify", "--quiet", ref)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "HOME=" + os.DevNull}
	out, _ := cmd.Output()
	return strings.TrimSpace(string(out))
}

// gitEnv is a git client configured only through the proxy: a fresh HOME,
// no system config, http.proxy and http.sslCAInfo in the global config, and
// an askpass answering x-access-token and the token.
type gitEnv struct {
	env []string
	dir string
}

func newGitEnv(t testing.TB, proxyAddr, proxyCA, token string) *gitEnv {
	t.Helper()
	home := t.TempDir()
	askpass := filepath.Join(home, "askpass")
	script := "#!/bin/sh\ncase \"$1\" in Username*) echo x-access-token;; *) echo \"$KM_TEST_TOKEN\";; esac\n"
	if err := os.WriteFile(askpass, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "[user]\n\tname = km test\n\temail = km@example.invalid\n[init]\n\tdefaultBranch = main\n[http]\n"
	if proxyAddr != "" {
		cfg += "\tproxy = http://" + proxyAddr + "\n"
	}
	if proxyCA != "" {
		cfg += "\tsslCAInfo = " + proxyCA + "\n"
	}
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return &gitEnv{dir: home, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1", "GIT_ASKPASS=" + askpass,
		"GIT_TERMINAL_PROMPT=0", "KM_TEST_TOKEN=" + token, "LC_ALL=C",
	}}
}

func (g *gitEnv) git(dir string, extraEnv []string, args ...string) (string, string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, g.env...), extraEnv...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return strings.TrimSpace(out.String()), errOut.String(), err
}

func (g *gitEnv) mustGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, errOut, err := g.git(dir, nil, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}
