package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/workflow"
	"github.com/klankermaker/km/lambda"
)

// refresherBuild is cmd/km-refresher built once for this test binary.
var refresherBuild struct {
	once sync.Once
	path string
	err  error
}

func refresherBinary(t *testing.T) string {
	t.Helper()
	refresherBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "km-workflow-refresher-")
		if err != nil {
			refresherBuild.err = err
			return
		}
		refresherBuild.path = filepath.Join(dir, "km-refresher")
		out, err := exec.Command("go", "build", "-o", refresherBuild.path, "github.com/klankermaker/km/cmd/km-refresher").CombinedOutput()
		if err != nil {
			refresherBuild.err = fmt.Errorf("go build cmd/km-refresher: %v\n%s", err, out)
		}
	})
	if refresherBuild.err != nil {
		t.Fatal(refresherBuild.err)
	}
	return refresherBuild.path
}

// startRefresher runs the refresher as Lambda would for the fixture's
// function: kumo's Runtime API, the environment km apply put on the function.
func (f *fixture) startRefresher() *syncBuffer {
	f.t.Helper()
	fn := names.New(f.prefix).Function()
	live, err := f.aws.GetFunction(context.Background(), fn)
	if err != nil {
		f.t.Fatal(err)
	}
	home := f.t.TempDir()
	cmd := exec.Command(refresherBinary(f.t))
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(f.kumoURL, "http://") + "/_runtime/" + fn,
		"AWS_LAMBDA_FUNCTION_NAME=" + fn,
		"AWS_ACCESS_KEY_ID=AKIDKUMOTEST", "AWS_SECRET_ACCESS_KEY=kumo-test-secret",
		"AWS_ENDPOINT_URL=" + f.kumoURL, "AWS_EC2_METADATA_DISABLED=true", "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
	}
	for k, v := range live.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return out
}

// syncBuffer is the refresher's output, written by exec's copying goroutine
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// refresh runs Session.Refresh, waiting (up to 30 s) for the refresher
// process to poll kumo's Runtime API: before that kumo refuses the Invoke.
func (f *fixture) refresh(id string) (lambda.Result, error) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := f.session().Refresh(context.Background(), id)
		if err != nil && strings.Contains(err.Error(), "no runtime handler") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // polling for the subprocess's first long poll
			continue
		}
		return res, err
	}
}

// km refresh fires a sandbox's schedule now through the deployed refresher:
// every owner's token is replaced by a new one, plan stays empty, and a
// refusal by GitHub comes back with its cause.
func TestRefreshFiresTheScheduleNow(t *testing.T) {
	f := newFixture(t, "kmref", []string{"sb-ref1"})
	f.apply()
	logs := f.startRefresher()
	ctx := context.Background()
	before := map[string]string{}
	for _, p := range []string{"/sandbox/sb-ref1/github-token", "/sandbox/sb-ref1/github-token-my-org"} {
		got, err := f.aws.GetParameter(ctx, p, true)
		if err != nil {
			t.Fatal(err)
		}
		before[p] = got.Value
	}

	res, err := f.refresh("sb-ref1")
	if err != nil {
		t.Fatalf("refresh: %v\nrefresher output:\n%s", err, logs)
	}
	if len(res.Tokens) != 2 {
		t.Fatalf("refreshed %d tokens, want 2: %+v", len(res.Tokens), res)
	}
	for p, old := range before {
		got, err := f.aws.GetParameter(ctx, p, true)
		if err != nil {
			t.Fatal(err)
		}
		if got.Value == old {
			t.Errorf("%s still holds the token km apply minted", p)
		}
		if _, ok := f.sim.LookupToken(got.Value); !ok {
			t.Errorf("%s holds a token githubsim never issued", p)
		}
		b, _ := json.Marshal(res)
		if strings.Contains(string(b), got.Value) || strings.Contains(logs.String(), got.Value) {
			t.Errorf("the token of %s appears in the result or the refresher's output", p)
		}
	}
	if p := f.plan(); p.HasChanges() {
		t.Fatalf("plan after the refresher's write: %v", actions(p))
	}

	// GitHub refuses: the repository left the installation.
	f.sim.RemoveRepoFromInstallation(f.written.UserInst, "my-repo")
	_, err = f.refresh("sb-ref1")
	if err == nil || !strings.Contains(err.Error(), "a repository left the installation") || !strings.Contains(err.Error(), "sb-ref1") {
		t.Fatalf("refresh after the repository left: %v", err)
	}
	if errors.Is(err, workflow.ErrRefreshHandedOn) {
		t.Error("a 422 was handed on to the relay")
	}

	if _, err := f.refresh("sb-nope"); err == nil || !strings.Contains(err.Error(), "has no refresh schedule") {
		t.Fatalf("refresh of an undeclared sandbox: %v", err)
	}
}
