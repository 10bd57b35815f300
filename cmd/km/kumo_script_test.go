package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sivchari/kumo"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/profiles/kmyaml"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// TestKumoScripts drives the km binary through testdata/kumo/*.txtar against
// an in-process kumo and GitHub simulators (they outlive every km process the
// scripts start). Each script gets km.yaml for five sandboxes named after the
// script ($SB1 ... $SB5) under prefix $PREFIX; kumo has one store per process,
// so the names differ per script.
func TestKumoScripts(t *testing.T) {
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	zip := filepath.Join(t.TempDir(), "refresher.zip")
	if err := os.WriteFile(zip, []byte("zip-v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	aws, _ := statetest.Client(t, srv.URL, state.Options{})
	testscript.Run(t, testscript.Params{
		Dir: "testdata/kumo",
		Setup: func(e *testscript.Env) error {
			name := strings.TrimPrefix(filepath.Base(e.WorkDir), "script-")
			tag := strings.ReplaceAll(strings.ToLower(name), "_", "")
			if len(tag) > 8 {
				tag = tag[:8]
			}
			// kumo's store outlives this run (go test -count=2): a run tag too.
			tag += fmt.Sprintf("%04x", rand.IntN(1<<16))
			prefix := "ks" + tag
			var ids []string
			for i := 1; i <= 5; i++ {
				id := fmt.Sprintf("sb-%s%d", tag, i)
				ids = append(ids, id)
				e.Setenv("SB"+strconv.Itoa(i), id)
			}
			sim := githubsim.New() // one App per simulator: one per script
			e.Defer(sim.Close)
			w, err := demo.Write(sim, e.WorkDir, demo.Options{Prefix: prefix, Sandboxes: ids})
			if err != nil {
				return err
			}
			// kumo has no quotas: km paces itself at 100 times AWS's rates.
			if err := appendFile(w.ConfigPath, "quotas:\n  scale: 100\n"); err != nil {
				return err
			}
			e.Setenv("PREFIX", prefix)
			e.Setenv("AWS_ENDPOINT_URL", srv.URL)
			e.Setenv("AWS_REGION", "us-east-1")
			e.Setenv("AWS_ACCESS_KEY_ID", "AKIDKUMOTEST")
			e.Setenv("AWS_SECRET_ACCESS_KEY", "kumo-test-secret")
			e.Setenv("KM_REFRESHER_ZIP", zip)
			e.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// hold-lock ID: take the state lock as a km process that died.
			"hold-lock": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: hold-lock ID")
				}
				dead := exec.Command("true")
				ts.Check(dead.Run())
				host, _ := os.Hostname()
				info := state.LockInfo{ID: args[0], Operation: "apply", Who: "ci@" + host, PID: dead.Process.Pid, Created: time.Now().Add(-time.Hour)}
				_, err := aws.AcquireLock(context.Background(), names.New(ts.Getenv("PREFIX")).LockParam(), info, 0)
				ts.Check(err)
			},
			// keep-sandboxes N: remove every sandbox after the first N from km.yaml.
			"keep-sandboxes": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: keep-sandboxes N")
				}
				n, err := strconv.Atoi(args[0])
				ts.Check(err)
				path := ts.MkAbs("km.yaml")
				cfg, err := profiles.Load(path)
				ts.Check(err)
				for _, sb := range cfg.Sandboxes[min(n, len(cfg.Sandboxes)):] {
					_, err := kmyaml.RemoveSandbox(path, sb.ID)
					ts.Check(err)
				}
			},
		},
	})
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}
