package lambda_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
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
