package lambda_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/sivchari/kumo"

	"github.com/klankermaker/km/internal/refreshertest"
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
	refresher.Dir = dir
	code := m.Run()
	if sharedKumo.srv != nil {
		sharedKumo.srv.Close()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// refresher is cmd/km-refresher built into binDir, once per test binary.
var refresher = &refreshertest.Binary{}

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
