package layering_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// floors puts every package of the module on a floor. A package imports only
// packages on its own floor or below: nothing imports upward. A new package
// must be placed here (the test fails until it is).
//
//	4  binaries: cmd/*, flags only
//	3  command packages: what one command group does, and the fixtures of
//	   their tests (fleettest, configtest)
//	2  the planner (reconcile, its views) and the refresher (lambda)
//	1  AWS (state), the declaration (profiles), the token contract, the GitHub client
//	0  leaves: names, parsers, writers, simulators and test helpers
var floors = map[string]int{
	"cmd/km": 4, "cmd/km-refresher": 4, "cmd/km-sim": 4, "cmd/mkzip": 4,

	"internal/planapply": 3, "internal/sandboxes": 3, "internal/setup": 3, "internal/doctor": 3, "internal/otel": 3,
	"internal/sandbox": 3, "internal/proxy": 3, "internal/demo": 3, "internal/version": 3, "internal/completion": 3,
	"internal/fleettest": 3, "internal/configtest": 3,

	"reconcile": 2, "reconcile/views": 2, "reconcile/plantest": 2, "lambda": 2, "internal/refreshertest": 2,

	"state": 1, "state/statetest": 1, "profiles": 1, "profiles/kmyaml": 1,
	"internal/sandboxtoken": 1, "internal/githubapp": 1,

	"internal/names": 0, "internal/pemkey": 0, "internal/atomicfile": 0, "internal/lambdazip": 0,
	"internal/policyeval": 0, "internal/githubsim": 0, "internal/testkeys": 0, "internal/schematest": 0,
	"internal/repocheck": 0, "internal/layering": 0, "internal/planpolicy": 0,
	"internal/quota": 0, "internal/faultproxy": 0, "internal/revproxy": 0,
}

// testHelpers exist for tests: no other package may import them.
var testHelpers = []string{"internal/testkeys", "internal/schematest", "reconcile/plantest", "state/statetest", "internal/refreshertest", "internal/faultproxy", "internal/fleettest", "internal/configtest"}

func TestFloors(t *testing.T) {
	imports, _ := goList(t)
	var unplaced []string
	for pkg, deps := range imports {
		rel := strings.TrimPrefix(pkg, mod)
		f, ok := floors[rel]
		if !ok {
			unplaced = append(unplaced, rel)
			continue
		}
		for _, d := range deps {
			drel, ok := strings.CutPrefix(d, mod)
			if !ok {
				continue
			}
			if df, placed := floors[drel]; placed && df > f {
				t.Errorf("%s (floor %d) imports %s (floor %d): nothing imports upward", rel, f, drel, df)
			}
			if isHelper(drel) && !isHelper(rel) {
				t.Errorf("%s imports the test helper %s: only tests and other helpers may", rel, drel)
			}
		}
	}
	sort.Strings(unplaced)
	for _, p := range unplaced {
		t.Errorf("package %s is on no floor: add it to floors in internal/layering/floors_test.go", p)
	}
}

func isHelper(rel string) bool {
	for _, h := range testHelpers {
		if rel == h {
			return true
		}
	}
	return false
}

// claim matches a package doc's sentence about its imports.
var claim = regexp.MustCompile(`(?i)must\s+not\s+import|imports\s+nothing|never\s+import`)

// TestEveryImportClaimIsChecked: a package whose doc comment says what it must
// not import has a rule in TestImportRules (or is a test helper, which
// TestFloors checks), so that no such sentence is left unenforced.
func TestEveryImportClaimIsChecked(t *testing.T) {
	ruled := map[string]bool{}
	for _, r := range importRules() {
		ruled[r.pkg] = true
	}
	root := filepath.Join("..", "..")
	for rel := range floors {
		dir := filepath.Join(root, filepath.FromSlash(rel))
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, p := range pkgs {
			for _, f := range p.Files {
				if f.Doc != nil && claim.MatchString(f.Doc.Text()) && !ruled[rel] && !isHelper(rel) {
					t.Errorf("%s's doc says what it must not import, but TestImportRules has no rule for it", rel)
				}
			}
		}
	}
}

// TestNoSandboxPathOutsideTheTokenPackage: only internal/sandboxtoken builds
// a token parameter's /sandbox/ path (tests and test helpers may write
// literal paths).
func TestNoSandboxPathOutsideTheTokenPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	lit := regexp.MustCompile(`"/sandbox["/]`)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		rel := strings.TrimPrefix(filepath.ToSlash(filepath.Dir(path)), "../../")
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			rel == "internal/sandboxtoken" || isHelper(rel) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if lit.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d builds a /sandbox/ path: use internal/sandboxtoken", path, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
