package planapply_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/lambda"
)

// refresher is cmd/km-refresher, built once for this test binary.
var refresher refreshertest.Binary

// startRefresher runs the refresher as Lambda would for the fixture's
// function: kumo's Runtime API (through a proxy that sees its first poll),
// the environment km apply put on the function. It returns once the
// process polls for an invocation: from then on kumo routes Invoke to it.
func (f *fixture) startRefresher() *refreshertest.Output {
	f.t.Helper()
	fn := names.New(f.prefix).Function()
	live, err := f.aws.GetFunction(context.Background(), fn)
	if err != nil {
		f.t.Fatal(err)
	}
	proxy := f.proxy
	if proxy == nil {
		proxy = refreshertest.NewProxy(f.t, f.kumoURL)
	}
	cmd := exec.Command(refresher.Path(f.t))
	cmd.Env = refreshertest.Env(proxy.RuntimeAPI(fn), fn, proxy.URL, f.t.TempDir(), live.Env)
	out := &refreshertest.Output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case <-proxy.Polled(fn):
	case <-time.After(30 * time.Second):
		f.t.Fatalf("the refresher never polled the Runtime API; its output:\n%s", out)
	}
	return out
}

// refresh runs Session.Refresh. The refresher's first poll can reach kumo
// just after the proxy forwarded it: until kumo registered it, Invoke
// answers "no runtime handler" at once, and the call is repeated.
func (f *fixture) refresh(id string) (lambda.Result, error) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := f.session().Refresh(context.Background(), id)
		if err != nil && strings.Contains(err.Error(), "no runtime handler") && time.Now().Before(deadline) {
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
	for _, p := range []string{"/sandbox/" + f.id("sb-ref1") + "/github-token", "/sandbox/" + f.id("sb-ref1") + "/github-token-my-org"} {
		got, err := f.aws.GetParameter(ctx, p, true)
		if err != nil {
			t.Fatal(err)
		}
		before[p] = got.Value
	}

	res, err := f.refresh(f.id("sb-ref1"))
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
	_, err = f.refresh(f.id("sb-ref1"))
	if err == nil || !strings.Contains(err.Error(), "a repository left the installation") || !strings.Contains(err.Error(), f.id("sb-ref1")) {
		t.Fatalf("refresh after the repository left: %v", err)
	}
	if errors.Is(err, planapply.ErrRefreshHandedOn) {
		t.Error("a 422 was handed on to the relay")
	}

	if _, err := f.refresh(f.id("sb-nope")); err == nil || !strings.Contains(err.Error(), "has no refresh schedule") {
		t.Fatalf("refresh of an undeclared sandbox: %v", err)
	}
}
