package main

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/state/statetest"
)

// TestScriptsLive drives the real km binary through
// testdata/script/live/*.txtar against an in-process kumo (one per test
// binary run, shared by the scripts) and a GitHub simulator per script, so
// that every command's exit code on success is checked end to end. Each
// script gets its own prefix and sandbox id ($PREFIX, $SB): kumo's store
// outlives a run, and go test -count=2 must pass.
//
// Per script: $WORK/km.yaml names region, $PREFIX and profilesDir (no github
// section: the script configures it); $WORK/app.pem is the simulator App's key;
// $CLIENT_ID, $INST_USER and $INST_ORG are the App and its installations on
// my-user and my-org; $GITHUB_TOKEN is accepted for PR comments;
// $KM_REFRESHER_ZIP is a stand-in deployment package.
func TestScriptsLive(t *testing.T) {
	_, _, kumoURL := statetest.NewKumo(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script/live",
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
