// Package refreshertest runs cmd/km-refresher the way Lambda would, attached
// to kumo's Runtime API, for the tests of the lambda package and of the
// commands that invoke the refresher. Import it from _test.go files only.
package refreshertest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klankermaker/km/state/statetest"
)

// Binary is cmd/km-refresher built for this machine, at most once.
type Binary struct {
	// Dir receives the binary; "" makes a temporary directory (left for
	// the OS to clean: a test binary has no later hook than TestMain).
	Dir string

	once sync.Once
	path string
	err  error
}

// Path builds the binary on first use and returns its path.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		dir := b.Dir
		if dir == "" {
			if dir, b.err = os.MkdirTemp("", "km-refresher-"); b.err != nil {
				return
			}
		}
		b.path = filepath.Join(dir, "km-refresher")
		out, err := exec.Command("go", "build", "-o", b.path, "github.com/klankermaker/km/cmd/km-refresher").CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build cmd/km-refresher: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Env is the process environment Lambda would give the refresher:
// runtimeAPI (host:port/_runtime/FUNCTION, no scheme), the function's name,
// AWS pointed at endpoint with kumo's test credentials and no shared config
// (home isolates it), and the function's own environment (fnEnv, as
// GetFunction reports it: kumo does not pass it on).
func Env(runtimeAPI, function, endpoint, home string, fnEnv map[string]string) []string {
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + function,
		"AWS_REGION=" + statetest.Region,
		"AWS_ACCESS_KEY_ID=AKIDKUMOTEST", "AWS_SECRET_ACCESS_KEY=kumo-test-secret",
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"HOME=" + home,
	}
	for k, v := range fnEnv {
		env = append(env, k+"="+v)
	}
	return env
}

// Output collects what a refresher process (or an in-process handler)
// writes, while the test reads it: safe for concurrent use.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
