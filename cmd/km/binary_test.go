package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builtKM is cmd/km built once per test binary for the tests that need the
// real executable on disk (completion scripts name it; km github runs it).
var builtKM struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// kmBinary returns the path of the built km, building it on first use.
func kmBinary(t *testing.T) string {
	t.Helper()
	builtKM.once.Do(func() {
		dir, err := os.MkdirTemp("", "km-bin-")
		if err != nil {
			builtKM.err = err
			return
		}
		builtKM.path = filepath.Join(dir, "km")
		builtKM.out, builtKM.err = exec.Command("go", "build", "-o", builtKM.path, ".").CombinedOutput()
	})
	if builtKM.err != nil {
		t.Fatalf("go build cmd/km: %v\n%s", builtKM.err, builtKM.out)
	}
	return builtKM.path
}
