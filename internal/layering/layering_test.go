package layering_test

import (
	"os/exec"
	"strings"
	"testing"
)

const (
	mod    = "github.com/klankermaker/km/"
	awsSDK = "github.com/aws/aws-sdk-go-v2"
	github = "github.com/google/go-github"
)

// goList returns, for every package of the module, its direct imports and
// all its dependencies.
func goList(t *testing.T) (imports, deps map[string][]string) {
	t.Helper()
	list := func(format string) map[string][]string {
		out, err := exec.Command("go", "list", "-f", format, "github.com/klankermaker/km/...").Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		m := map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			m[f[0]] = f[1:]
		}
		return m
	}
	return list(`{{.ImportPath}} {{join .Imports " "}}`), list(`{{.ImportPath}} {{join .Deps " "}}`)
}

func TestImportRules(t *testing.T) {
	imports, deps := goList(t)
	if len(imports) < 10 {
		t.Fatalf("go list found %d packages", len(imports))
	}
	rules := []struct {
		pkg     string
		direct  bool // only direct imports count (the rule is about who talks to what)
		never   []string
		because string
	}{
		{"reconcile", true, []string{awsSDK}, "reconcile talks to AWS through state's interfaces"},
		{"cmd/km", true, []string{awsSDK}, "cmd/km only wires flags to packages"},
		{"profiles", false, []string{awsSDK, github, mod + "state", mod + "internal/githubapp"}, "the declaration is pure data: no AWS, no GitHub"},
		{"state", false, []string{mod + "reconcile", mod + "profiles"}, "state reads and writes AWS, it does not plan"},
		{"lambda", false, []string{mod + "cmd/", mod + "reconcile", mod + "profiles"}, "the refresher ships the handler, not the planner"},
		{"internal/githubapp", false, []string{awsSDK, mod + "state"}, "the GitHub client knows nothing of AWS"},
		{"internal/pemkey", false, []string{mod}, "the key parser is a leaf"},
		{"internal/policyeval", false, []string{mod, awsSDK}, "the policy evaluator is a leaf: it judges documents, it does not fetch them"},
		{"internal/sandboxtoken", false, []string{mod + "reconcile", mod + "lambda", mod + "profiles", mod + "cmd/"}, "both apply and the refresher write through it"},
		{"internal/version", false, []string{awsSDK, github, mod + "state", mod + "reconcile"}, "km version reads build information and a file, nothing remote"},
		{"internal/completion", false, []string{mod}, "the completion scripts are a leaf"},
		{"internal/repocheck", false, []string{mod}, "the repository checks stand alone"},
		{"internal/proxy", false, []string{awsSDK, mod + "state", mod + "reconcile", mod + "internal/githubapp", mod + "internal/sandbox", mod + "cmd/"}, "the proxy decides on the wire only: no AWS, no token minting"},
	}
	for _, r := range rules {
		pkg := mod + r.pkg
		got, ok := deps[pkg]
		if r.direct {
			got, ok = imports[pkg]
		}
		if !ok {
			t.Errorf("package %s not found", pkg)
			continue
		}
		for _, d := range got {
			for _, bad := range r.never {
				if d == strings.TrimSuffix(bad, "/") || strings.HasPrefix(d, bad) && d != pkg {
					t.Errorf("%s imports %s: %s", r.pkg, d, r.because)
				}
			}
		}
	}
}

// TestOPAIsTestOnly: Open Policy Agent runs the example policy in
// internal/planpolicy's test; no package of km (non-test dependencies) may
// pull it into a binary.
func TestOPAIsTestOnly(t *testing.T) {
	_, deps := goList(t)
	for pkg, ds := range deps {
		for _, d := range ds {
			if strings.HasPrefix(d, "github.com/open-policy-agent/opa") {
				t.Errorf("%s depends on %s: OPA is a test-only dependency", pkg, d)
				break
			}
		}
	}
}
