package lambda_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sivchari/kumo"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// binDir holds the binaries built once per test binary.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "km-refresher-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	if sharedKumo.srv != nil {
		sharedKumo.srv.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

type built struct {
	once sync.Once
	path string
	err  error
}

var hostBinary built

// refresherBinary builds cmd/km-refresher for this machine, once per test
// binary.
func refresherBinary(t testing.TB) string {
	t.Helper()
	hostBinary.once.Do(func() {
		hostBinary.path = filepath.Join(binDir, "km-refresher")
		cmd := exec.Command("go", "build", "-o", hostBinary.path, "github.com/klankermaker/km/cmd/km-refresher")
		if out, err := cmd.CombinedOutput(); err != nil {
			hostBinary.err = fmt.Errorf("go build cmd/km-refresher: %v\n%s", err, out)
		}
	})
	if hostBinary.err != nil {
		t.Fatal(hostBinary.err)
	}
	return hostBinary.path
}

// sharedKumo is the one kumo server of this test binary. kumo's servers
// share one store anyway, and kumo.NewServer is not safe to call from
// parallel tests (it rewires package-level services: a data race).
var sharedKumo struct {
	once sync.Once
	srv  *kumo.Server
}

// kumoClient returns a client with its own Recorder for the shared kumo
// server, and the server's URL.
func kumoClient(t testing.TB) (*state.AWS, *state.Recorder, string) {
	t.Helper()
	sharedKumo.once.Do(func() { sharedKumo.srv = kumo.NewServer() })
	aws, rec := statetest.Client(t, sharedKumo.srv.URL, state.Options{})
	return aws, rec, sharedKumo.srv.URL
}
