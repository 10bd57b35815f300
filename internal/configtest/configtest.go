// Package configtest is the fixture of the tests of the commands that start
// from a km.yaml the test writes (internal/setup, internal/doctor,
// internal/otel): a temp dir, kumo under a fresh prefix, a GitHub simulator,
// and the check that no App key leaks into what they print. Only tests
// import it (internal/layering checks it); it must not import cmd/*.
package configtest

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

// SyncBuffer is a bytes.Buffer safe for the concurrent writes of apply.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Fixture is one km.yaml in a temp dir, wired to kumo (unique prefix) and a
// GitHub simulator.
type Fixture struct {
	T          *testing.T
	Dir        string
	ConfigPath string // km.yaml path
	Prefix     string
	Sim        *githubsim.Server
	AWS        *state.AWS
	Rec        *state.Recorder
	Zip        string
	XDG        string // XDG_CONFIG_HOME: where km github writes the App key
	Out        SyncBuffer
}

// Uniq is 8 random hex digits, for names no other test or run uses.
func Uniq(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// New makes a Fixture; km.yaml (ConfigPath) is for the test to write.
func New(t *testing.T, simOpts ...githubsim.Option) *Fixture {
	t.Helper()
	aws, rec, _ := statetest.NewKumo(t)
	sim := githubsim.New(simOpts...)
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	zip := filepath.Join(dir, "km-refresher.zip")
	if err := os.WriteFile(zip, []byte("refresher package "+Uniq(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Fixture{T: t, Dir: dir, ConfigPath: filepath.Join(dir, "km.yaml"), Prefix: "t" + Uniq(t), Sim: sim, AWS: aws, Rec: rec, Zip: zip,
		XDG: t.TempDir()}
}

// Env is the fixture's environment: its km.yaml, refresher zip, simulator
// URLs and XDG_CONFIG_HOME, kumo, output to f.Out.
func (f *Fixture) Env() planapply.Env {
	return planapply.Env{
		ConfigPath: f.ConfigPath,
		Getenv: func(k string) string {
			switch k {
			case "KM_REFRESHER_ZIP":
				return f.Zip
			case "KM_GITHUB_API_URL", "KM_GITHUB_WEB_URL":
				return f.Sim.URL
			case "XDG_CONFIG_HOME":
				return f.XDG
			}
			return ""
		},
		Stdout: &f.Out, Stderr: &f.Out, AWS: f.AWS,
	}
}

// Write writes a file under Dir and returns its path.
func (f *Fixture) Write(name, content string) string {
	f.T.Helper()
	p := filepath.Join(f.Dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.T.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		f.T.Fatal(err)
	}
	return p
}

// Read returns a file under Dir.
func (f *Fixture) Read(name string) string {
	f.T.Helper()
	b, err := os.ReadFile(filepath.Join(f.Dir, name))
	if err != nil {
		f.T.Fatal(err)
	}
	return string(b)
}

// Param reads one SSM parameter (value and version); ok is false when missing.
func (f *Fixture) Param(name string) (state.Parameter, bool) {
	f.T.Helper()
	ps, err := f.AWS.GetParameters(context.Background(), []string{name}, true)
	if err != nil {
		f.T.Fatalf("GetParameters %s: %v", name, err)
	}
	p, ok := ps[name]
	return p, ok
}

// Versions maps every parameter under /{prefix}/config/github to its version.
func (f *Fixture) Versions() map[string]int64 {
	f.T.Helper()
	ps, err := f.AWS.DescribeParameters(context.Background(), "/"+f.Prefix+"/config/github")
	if err != nil {
		f.T.Fatal(err)
	}
	out := map[string]int64{}
	for _, p := range ps {
		out[p.Name] = p.Version
	}
	return out
}

// NoSecret fails the test when any of the secrets appears in s.
func NoSecret(t *testing.T, what, s string, secrets ...[]byte) {
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
