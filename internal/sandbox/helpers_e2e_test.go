package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/revproxy"
)

// buildKM builds the real cmd/km: the installed wrapper and hook exec it, so
// the test covers the CLI wiring too.
func buildKM(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build km: %v", err)
	}
	out := filepath.Join(t.TempDir(), "km")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if msg, err := exec.CommandContext(ctx, goTool, "build", "-o", out, "github.com/klankermaker/km/cmd/km").CombinedOutput(); err != nil {
		t.Fatalf("building cmd/km: %v\n%s", err, msg)
	}
	return out
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// front is a reverse proxy in front of the GitHub simulator. Every request
// that carries credentials is recorded, and before it is forwarded (so while
// git, which holds the token in memory, is waiting for the answer) every
// readable /proc/*/environ and /proc/*/cmdline is scanned for the secrets.
type front struct {
	srv     *httptest.Server
	proxy   *revproxy.Proxy
	canary  string // in git's environment: proves the scan reads git's environ
	mu      sync.Mutex
	secrets []string
	auths   []seenAuth
	hosts   []string // Host of every request
	scans   []procScan
}

type seenAuth struct {
	Host, Path, User, Password string
}

type procScan struct {
	Path          string
	CanaryEnv     int      // processes whose environ holds the canary
	URLInCmdline  int      // processes whose cmdline holds a URL of this server (":PORT/")
	Leaks         []string // "/proc/PID/environ" or cmdline holding a secret
	ProcsReadable int
}

func newFront(t *testing.T, target, canary string) *front {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &front{proxy: revproxy.New(u), canary: canary}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) addSecret(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets = append(f.secrets, s)
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hosts = append(f.hosts, r.Host)
	secrets := slices.Clone(f.secrets)
	f.mu.Unlock()
	if user, pass, ok := r.BasicAuth(); ok {
		_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
		scan := scanProcs(secrets, f.canary, ":"+port+"/")
		scan.Path = r.URL.Path
		f.mu.Lock()
		f.auths = append(f.auths, seenAuth{Host: r.Host, Path: r.URL.Path, User: user, Password: pass})
		f.scans = append(f.scans, scan)
		f.mu.Unlock()
	}
	f.proxy.ServeHTTP(w, r)
}

func (f *front) snapshot() ([]seenAuth, []procScan, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auths), slices.Clone(f.scans), slices.Clone(f.hosts)
}

// scanProcs reads every /proc/PID/environ and /proc/PID/cmdline it may read,
// counting the canary and urlMark (positive controls) and any secret.
func scanProcs(secrets []string, canary, urlMark string) procScan {
	var s procScan
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		s.ProcsReadable++
		if bytes.Contains(env, []byte(canary)) {
			s.CanaryEnv++
		}
		if bytes.Contains(cmdline, []byte(urlMark)) {
			s.URLInCmdline++
		}
		for _, sec := range secrets {
			if bytes.Contains(env, []byte(sec)) {
				s.Leaks = append(s.Leaks, "/proc/"+e.Name()+"/environ")
			}
			if bytes.Contains(cmdline, []byte(sec)) {
				s.Leaks = append(s.Leaks, "/proc/"+e.Name()+"/cmdline")
			}
		}
	}
	return s
}

// filesHolding walks roots and returns the files whose content holds one of
// the secrets, and how many files it read.
func filesHolding(t *testing.T, secrets []string, roots ...string) (hits []string, read int) {
	t.Helper()
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			read++
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					hits = append(hits, path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("scanning %s: %v", root, err)
		}
	}
	return hits, read
}
