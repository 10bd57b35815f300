package profiles

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const fuzzProfile = `apiVersion: klankermaker.ai/v1alpha1
kind: SandboxProfile
metadata: {name: p}
spec:
  sourceAccess:
    github:
      allowedRepos: [my-user/my-repo, my-org/*]
      allowedRefs: [main, "release/*"]
      permissions: [clone, fetch, push]
`

const fuzzConfig = `region: us-east-1
prefix: km
github:
  appClientId: Iv1.abc
  installations:
    my-user: 1234
    my-org: 5678
profilesDir: profiles
safety:
  maxDestroyPercent: 20
quotas:
  scale: 2
sandboxes:
  - id: sb-aaaaaa
    profile: p
    principal: arn:aws:iam::123456789012:role/x
`

// posRe is the file:line:col every load error starts with.
var posRe = regexp.MustCompile(`^[^\n]*\.yaml:[0-9]+:[0-9]+: `)

// checkLoad loads km.yaml and profiles/p.yaml with the given contents: it
// must not panic, and every error it reports names file:line:col.
func checkLoad(t *testing.T, config, profile []byte) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "km.yaml"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles", "p.yaml"), profile, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(filepath.Join(dir, "km.yaml"))
	if err == nil {
		if cfg.Prefix == "" || cfg.Safety.MaxDestroyPercent < 0 || cfg.Safety.MaxDestroyPercent > 100 {
			t.Fatalf("loaded an invalid config: prefix %q, safety %+v", cfg.Prefix, cfg.Safety)
		}
		return
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("a load error that is not a positioned list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(err.Error()), "\n") {
		if !posRe.MatchString(line) && !strings.HasPrefix(line, " ") {
			t.Fatalf("error line without file:line:col: %q", line)
		}
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(fuzzConfig))
	f.Add([]byte(""))
	f.Add([]byte("sandboxes: [{id: x}]\nquotas: {kms:CreateKey: -1}\n"))
	f.Add([]byte("safety: {maxDestroyPercent: 101}\n"))
	f.Fuzz(func(t *testing.T, config []byte) { checkLoad(t, config, []byte(fuzzProfile)) })
}

// FuzzLoadProfile: run it with -fuzzminimizetime 2s: minimizing a profile-sized
// input with the default 60 s takes the whole run on a loaded machine.
func FuzzLoadProfile(f *testing.F) {
	f.Add([]byte(fuzzProfile))
	f.Add([]byte("kind: SandboxProfile\nmetadata: {name: p}\nspec: {sourceAccess: {github: {allowedRepos: ['*']}}}\n"))
	f.Add([]byte("apiVersion: klankermaker.ai/v1alpha1\nkind: SandboxProfile\nmetadata: {name: p}\nspec:\n  sourceAccess:\n    github:\n      allowedRefs: ['[a-']\n"))
	f.Fuzz(func(t *testing.T, profile []byte) {
		// A load that never returns is a finding too: crash the worker so
		// the fuzzer keeps the input.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("loading this %d-byte profile did not return in 5 s: %q", len(profile), profile))
			}
		}()
		checkLoad(t, []byte(fuzzConfig), profile)
	})
}

// The ref matcher's fuzz target is FuzzMatchRef in refmatch_test.go.
