package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// TestScriptsLive drives the real km binary through
// testdata/script/live/*.txtar against an in-process kumo (one per test
// binary run, shared by the scripts) and a GitHub simulator per script, so
// that every command's exit code on success is checked end to end. Each
// script gets its own prefix and sandbox id ($PREFIX, $SB): kumo's store
// outlives a run, and go test -count=2 must pass.
//
// Per script: $WORK/km.yaml names region, $PREFIX and profilesDir, then holds
// the script's km.extra.yaml if any (no github section: the script configures
// it); $WORK/app.pem is the simulator App's key;
// $CLIENT_ID, $INST_USER and $INST_ORG are the App and its installations on
// my-user and my-org; $GITHUB_TOKEN is accepted for PR comments;
// $KM_REFRESHER_ZIP is a stand-in deployment package.
//
// Extra commands: stucklock ID takes the state lock of $PREFIX as ID and keeps
// it, as a run that crashed would; startrefresher runs cmd/km-refresher for
// $PREFIX's function on kumo's Runtime API, as Lambda would, and returns once
// kumo routes invocations to it.
func TestScriptsLive(t *testing.T) {
	aws, _, kumoURL := statetest.NewKumo(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script/live",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"stucklock": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: stucklock ID")
				}
				lock := names.New(ts.Getenv("PREFIX")).LockParam()
				_, err := aws.AcquireLock(context.Background(), lock, state.LockInfo{ID: args[0], Operation: "apply", Who: "crashed@ci"}, 0)
				ts.Check(err)
			},
			"startrefresher": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 0 {
					ts.Fatalf("usage: startrefresher")
				}
				startRefresher(t, ts, aws, kumoURL)
			},
		},
		Setup: func(e *testscript.Env) error {
			tag := make([]byte, 4)
			if _, err := rand.Read(tag); err != nil {
				return err
			}
			run := hex.EncodeToString(tag)
			sim := githubsim.New()
			e.Defer(sim.Close)
			app, key, err := sim.CreateApp("km-" + run)
			if err != nil {
				return err
			}
			user := sim.AddInstallation("my-user", "User", []string{"my-repo", "other-repo"}, nil)
			org := sim.AddInstallation("my-org", "Organization", []string{"api", "web"}, nil)
			commentToken := "ghs_" + run + "commenttoken0000000000000000"
			sim.SetCommentToken(commentToken)
			prefix := "t" + run
			files := map[string]string{
				"app.pem":          string(key),
				"km-refresher.zip": "refresher package " + run,
				"km.yaml":          "region: us-east-1\nprefix: " + prefix + "\nprofilesDir: profiles\n",
			}
			// A script may add to km.yaml (sandboxes, say) with km.extra.yaml,
			// where ${SB} is this script's sandbox id.
			if extra, err := os.ReadFile(filepath.Join(e.WorkDir, "km.extra.yaml")); err == nil {
				files["km.yaml"] += strings.ReplaceAll(string(extra), "${SB}", "sb-"+run)
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(e.WorkDir, name), []byte(body), 0o600); err != nil {
					return err
				}
			}
			for k, v := range map[string]string{
				"AWS_ENDPOINT_URL": kumoURL, "AWS_REGION": statetest.Region,
				"AWS_ACCESS_KEY_ID": "AKIDKUMOTEST", "AWS_SECRET_ACCESS_KEY": "kumo-test-secret",
				"KM_GITHUB_API_URL": sim.URL, "KM_GITHUB_WEB_URL": sim.URL,
				"KM_REFRESHER_ZIP": filepath.Join(e.WorkDir, "km-refresher.zip"),
				"NO_COLOR":         "1",
				"PREFIX":           prefix, "SB": "sb-" + run,
				"CLIENT_ID": app.ClientID, "INST_USER": strconv.FormatInt(user, 10), "INST_ORG": strconv.FormatInt(org, 10),
				"GITHUB_TOKEN": commentToken,
			} {
				e.Setenv(k, v)
			}
			return nil
		},
	})
}

// liveRefresher is cmd/km-refresher, built once for this test binary.
var liveRefresher refreshertest.Binary

// startRefresher runs the refresher for $PREFIX's function with the
// environment km apply gave it, waits for its first poll, then invokes it with
// an empty payload (which it refuses) until kumo stops answering "no runtime
// handler": from then on km's invocations reach it.
func startRefresher(t *testing.T, ts *testscript.TestScript, aws *state.AWS, kumoURL string) {
	ctx := context.Background()
	fn := names.New(ts.Getenv("PREFIX")).Function()
	live, err := aws.GetFunction(ctx, fn)
	ts.Check(err)
	proxy := refreshertest.NewProxy(t, kumoURL)
	cmd := exec.Command(liveRefresher.Path(t))
	cmd.Env = refreshertest.Env(proxy.RuntimeAPI(fn), fn, proxy.URL, filepath.Join(ts.Getenv("WORK"), "refresher-home"), live.Env)
	out := &refreshertest.Output{}
	cmd.Stdout, cmd.Stderr = out, out
	ts.Check(cmd.Start())
	ts.Defer(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case <-proxy.Polled(fn):
	case <-time.After(30 * time.Second):
		ts.Fatalf("the refresher never polled the Runtime API; its output:\n%s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, err := aws.Invoke(ctx, fn, []byte("{}"))
		if err == nil || !strings.Contains(err.Error(), "no runtime handler") {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("kumo never routed an invocation to the refresher: %v\n%s", err, out)
		}
	}
}
