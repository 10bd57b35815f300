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

// importRule: pkg (relative to the module) must not import any package
// starting with one of never, except those in except. direct: only its own
// imports count (the rule is about who talks to what); else all its
// dependencies. Every package doc that says what it must not import has one.
type importRule struct {
	pkg     string
	direct  bool
	never   []string
	except  []string
	because string
}

func importRules() []importRule {
	return []importRule{
		{"reconcile", true, []string{awsSDK, mod + "cmd/"}, nil, "reconcile talks to AWS through state's interfaces"},
		{"reconcile/views", true, []string{awsSDK, mod + "state", mod + "cmd/"}, nil, "the views render a plan; they read nothing"},
		{"cmd/km", true, []string{awsSDK}, nil, "cmd/km only wires flags to packages"},
		{"profiles", false, []string{awsSDK, github, mod}, []string{mod + "profiles", mod + "internal/pemkey"}, "the declaration is pure data: no AWS, no GitHub"},
		{"profiles/kmyaml", false, []string{awsSDK, mod + "state", mod + "reconcile", mod + "cmd/"}, nil, "the km.yaml editor edits a file"},
		{"state", false, []string{mod + "reconcile", mod + "profiles", mod + "cmd/", mod + "internal/githubapp"}, nil, "state reads and writes AWS, it does not plan"},
		{"state/statetest", false, []string{mod + "reconcile", mod + "cmd/"}, nil, "the emulator helpers know state only"},
		{"lambda", false, []string{mod + "cmd/", mod + "reconcile", mod + "profiles"}, nil, "the refresher ships the handler, not the planner"},
		{"internal/githubapp", false, []string{awsSDK, mod}, []string{mod + "internal/githubapp", mod + "internal/pemkey"}, "the GitHub client knows nothing of AWS"},
		{"internal/sandboxtoken", false, []string{mod + "reconcile", mod + "lambda", mod + "profiles", mod + "cmd/"}, nil, "both apply and the refresher write through it"},
		{"internal/names", false, []string{mod, awsSDK}, nil, "the naming rules are a leaf"},
		{"internal/atomicfile", false, []string{mod}, nil, "the file writer is a leaf"},
		{"internal/pemkey", false, []string{mod, awsSDK, github}, nil, "the key parser is a leaf"},
		{"internal/lambdazip", false, []string{mod}, nil, "the zip writer is a leaf"},
		{"internal/policyeval", false, []string{mod, awsSDK}, nil, "the policy evaluator is a leaf: it judges documents, it does not fetch them"},
		{"internal/schematest", false, []string{mod}, nil, "the schema helper is a leaf"},
		{"internal/repocheck", false, []string{mod}, nil, "the repository checks stand alone"},
		{"internal/quota", false, []string{awsSDK, "net/http", mod}, nil, "the quota table is numbers and their sources"},
		{"internal/faultproxy", false, []string{mod + "state", mod + "reconcile", mod + "cmd/"}, nil, "the fault proxy stands in front of the emulators, not km"},
		{"internal/revproxy", false, []string{mod, awsSDK}, []string{mod + "internal/revproxy"}, "the reverse proxy is a leaf"},
		{"internal/completion", false, []string{mod}, nil, "the completion scripts are a leaf"},
		{"internal/githubsim", false, []string{mod}, nil, "the simulator is the GitHub km is tested against"},
		{"internal/version", false, []string{awsSDK, github, mod}, []string{mod + "internal/version", mod + "internal/lambdazip"}, "km version reads build information and a file, nothing remote"},
		{"internal/planapply", false, []string{mod + "cmd/"}, nil, "commands are called by cmd, not the other way"},
		{"internal/sandboxes", true, []string{awsSDK, mod + "cmd/"}, nil, "the lifecycle commands reach AWS through planapply's Session and state"},
		{"internal/fleettest", false, []string{mod + "cmd/"}, nil, "the fixture drives the command packages, not the binaries"},
		{"internal/configtest", false, []string{mod + "cmd/"}, nil, "the fixture drives the command packages, not the binaries"},
		{"internal/demo", false, []string{mod + "cmd/"}, nil, "commands are called by cmd, not the other way"},
		{"internal/setup", true, []string{awsSDK, mod + "cmd/"}, nil, "setup reaches AWS through state"},
		{"internal/doctor", true, []string{awsSDK, mod + "cmd/"}, nil, "km doctor reaches AWS through state"},
		{"internal/otel", true, []string{awsSDK, mod + "cmd/"}, nil, "km otel reads the log group through state"},
		{"internal/sandbox", true, []string{awsSDK, mod + "reconcile", mod + "internal/githubapp", mod + "cmd/"}, nil, "inside the sandbox there is no planner and no App key"},
		{"internal/proxy", false, []string{awsSDK, mod + "state", mod + "reconcile", mod + "internal/githubapp", mod + "internal/sandbox", mod + "cmd/"}, nil, "the proxy decides on the wire only: no AWS, no token minting"},
	}
}

func TestImportRules(t *testing.T) {
	imports, deps := goList(t)
	if len(imports) < 10 {
		t.Fatalf("go list found %d packages", len(imports))
	}
	for _, r := range importRules() {
		pkg := mod + r.pkg
		got, ok := deps[pkg]
		if r.direct {
			got, ok = imports[pkg]
		}
		if !ok {
			t.Errorf("package %s not found", pkg)
			continue
		}
	next:
		for _, d := range got {
			for _, ok := range r.except {
				if d == ok {
					continue next
				}
			}
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
