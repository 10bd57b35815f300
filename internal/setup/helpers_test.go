package setup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of apply.
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

// fixture is one km.yaml in a temp dir, wired to kumo (unique prefix) and a
// GitHub simulator.
type fixture struct {
	t      *testing.T
	dir    string
	cfg    string // km.yaml path
	prefix string
	sim    *githubsim.Server
	aws    *state.AWS
	rec    *state.Recorder
	zip    string
	xdg    string // XDG_CONFIG_HOME: where km github writes the App key
	out    syncBuffer
}

func uniq(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func newFixture(t *testing.T, simOpts ...githubsim.Option) *fixture {
	t.Helper()
	aws, rec, _ := statetest.NewKumo(t)
	sim := githubsim.New(simOpts...)
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	zip := filepath.Join(dir, "km-refresher.zip")
	if err := os.WriteFile(zip, []byte("refresher package "+uniq(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: dir, cfg: filepath.Join(dir, "km.yaml"), prefix: "t" + uniq(t), sim: sim, aws: aws, rec: rec, zip: zip,
		xdg: t.TempDir()}
}

func (f *fixture) env() planapply.Env {
	return planapply.Env{
		ConfigPath: f.cfg,
		Getenv: func(k string) string {
			switch k {
			case "KM_REFRESHER_ZIP":
				return f.zip
			case "KM_GITHUB_API_URL", "KM_GITHUB_WEB_URL":
				return f.sim.URL
			case "XDG_CONFIG_HOME":
				return f.xdg
			}
			return ""
		},
		Stdout: &f.out, Stderr: &f.out, AWS: f.aws,
	}
}

func (f *fixture) write(name, content string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) read(name string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// param reads one SSM parameter (value and version); ok is false when missing.
func (f *fixture) param(name string) (state.Parameter, bool) {
	f.t.Helper()
	ps, err := f.aws.GetParameters(context.Background(), []string{name}, true)
	if err != nil {
		f.t.Fatalf("GetParameters %s: %v", name, err)
	}
	p, ok := ps[name]
	return p, ok
}

// versions maps every parameter under /{prefix}/config/github to its version.
func (f *fixture) versions() map[string]int64 {
	f.t.Helper()
	ps, err := f.aws.DescribeParameters(context.Background(), "/"+f.prefix+"/config/github")
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, p := range ps {
		out[p.Name] = p.Version
	}
	return out
}

// noSecret fails the test when any of the secrets appears in s.
func noSecret(t *testing.T, what, s string, secrets ...[]byte) {
	t.Helper()
	for _, sec := range secrets {
		body := strings.TrimSpace(string(sec))
		if len(body) == 0 {
			continue
		}
		// The PEM's base64 body lines: any one of them is a leak.
		for _, line := range strings.Split(body, "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(s, line) {
				t.Fatalf("%s leaks the private key (line %q)", what, line)
			}
		}
	}
}
