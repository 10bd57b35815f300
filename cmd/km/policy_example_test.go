package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestPlanWorkflowRunsPolicy: the pull-request workflow renders the saved
// plan as JSON with km show and fails on the example policy's deny rules
// with opa eval --fail-defined, reading the policy folder the repository
// ships (examples/policy, run by internal/planpolicy's test).
func TestPlanWorkflowRunsPolicy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "github-actions", "km-plan.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Env  map[string]string `yaml:"env"`
		Jobs map[string]struct {
			Steps []struct {
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	dir, ok := strings.CutPrefix(wf.Env["KM_POLICY_DIR"], ".km-src/")
	if !ok {
		t.Fatalf("env KM_POLICY_DIR = %q, want a folder of the km checkout (.km-src/...)", wf.Env["KM_POLICY_DIR"])
	}
	if rego, _ := filepath.Glob(filepath.Join("..", "..", dir, "*.rego")); len(rego) == 0 {
		t.Fatalf("KM_POLICY_DIR %s holds no .rego file", dir)
	}
	planned, setup, shown, gated := false, false, "", false
	for _, st := range wf.Jobs["plan"].Steps {
		setup = setup || strings.HasPrefix(st.Uses, "open-policy-agent/setup-opa@")
		for _, cmd := range shellCommands(st.Run) {
			switch {
			case len(cmd) > 2 && cmd[0] == "km" && cmd[1] == "plan" && slices.Contains(cmd, "--out"):
				planned = true
			case len(cmd) > 1 && cmd[0] == "km" && cmd[1] == "show" && slices.Contains(cmd, "json") && planned:
				// The output file is the redirection target, dropped by
				// shellCommands: find it in the script.
				if _, after, ok := strings.Cut(st.Run, strings.Join(cmd[1:], " ")+" > "); ok {
					shown = strings.Fields(after)[0]
				}
			case len(cmd) > 1 && cmd[0] == "opa" && cmd[1] == "eval":
				i := slices.Index(cmd, "--input")
				if slices.Contains(cmd, "--fail-defined") && i > 0 && i+1 < len(cmd) && cmd[i+1] == shown && shown != "" &&
					slices.Contains(cmd, "$KM_POLICY_DIR") && strings.HasPrefix(cmd[len(cmd)-1], "data.main.deny[") {
					gated = setup
				}
			}
		}
	}
	if !planned || shown == "" || !gated {
		t.Errorf("km-plan.yml: km plan --out %v, km show --format json > %q, gated by opa eval --fail-defined on data.main.deny after setup-opa: %v", planned, shown, gated)
	}
}
