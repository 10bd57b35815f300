package sandboxes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/sandboxes"
	"github.com/klankermaker/km/internal/schematest"
)

// go test ./internal/sandboxes -run TestListJSONGolden -update rewrites testdata/list.json.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestListJSONGolden: km list --format json for every status, with and
// without tokens and schedules, matches testdata/list.json and the schema.
func TestListJSONGolden(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	cet := time.FixedZone("CET", 3600)
	r := sandboxes.ListReport{Prefix: "km", GeneratedAt: at.In(cet), Sandboxes: []sandboxes.SandboxStatus{
		{ID: "sb-ok", Profile: "dev", Owners: []string{"my-user", "my-org"}, TokenMinted: at.Add(-20 * time.Minute).In(cet), TokenExpires: at.Add(40 * time.Minute), ScheduleState: "ENABLED", Status: sandboxes.StatusOK},
		{ID: "sb-new", Profile: "dev", Owners: []string{"my-user"}, Status: sandboxes.StatusMissing},
		{ID: "sb-late", Profile: "dev", Owners: []string{"my-user"}, TokenMinted: at.Add(-3 * time.Hour), TokenExpires: at.Add(-2 * time.Hour), ScheduleState: "DISABLED", Status: sandboxes.StatusExpired},
		{ID: "sb-edit", Profile: "ci", Owners: []string{}, TokenMinted: at.Add(-time.Minute), TokenExpires: at.Add(59 * time.Minute), ScheduleState: "ENABLED", Status: sandboxes.StatusDrifted},
		{ID: "sb-gone", Owners: []string{"my-org"}, TokenMinted: at.Add(-90 * time.Second), TokenExpires: at.Add(time.Hour), Status: sandboxes.StatusOrphaned},
	}}
	var b bytes.Buffer
	if err := sandboxes.WriteListJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "list-json.schema.json"), "km list --format json", b.Bytes())
	schematest.Golden(t, filepath.Join("testdata", "list.json"), b.Bytes(), *update)

	r.Sandboxes = append(r.Sandboxes, sandboxes.SandboxStatus{ID: "sb-x", Status: "weird"})
	if err := sandboxes.WriteListJSON(&bytes.Buffer{}, r); err == nil || !strings.Contains(err.Error(), `"weird"`) {
		t.Errorf("an undocumented status: %v", err)
	}
}

// TestListJSONOnKumo: the real km list after an apply, and after a sandbox
// left km.yaml, matches the schema with RFC 3339 times.
func TestListJSONOnKumo(t *testing.T) {
	f := newFixture(t, "kmlistjs", []string{"sb-lj1", "sb-lj2"})
	f.Apply()
	cfg := f.Written.ConfigPath
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "  - id: "+f.ID("sb-lj2"))
	if i < 0 {
		t.Fatalf("no %s in km.yaml:\n%s", f.ID("sb-lj2"), b)
	}
	if err := os.WriteFile(cfg, b[:i], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := sandboxes.Report(context.Background(), f.Session())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := sandboxes.WriteListJSON(&out, r); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "list-json.schema.json"), "km list --format json", out.Bytes())
	var doc struct {
		Sandboxes []struct {
			ID, Status     string
			Declared       bool
			TokenExpiresAt *string `json:"token_expires_at"`
			TokenAge       *int64  `json:"token_age_seconds"`
			ScheduleState  *string `json:"schedule_state"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range doc.Sandboxes {
		got[s.ID] = s.Status
		if s.TokenExpiresAt == nil || s.TokenAge == nil || *s.TokenAge < 0 || *s.TokenAge > 600 || s.ScheduleState == nil || *s.ScheduleState != "ENABLED" {
			t.Errorf("%s: token_expires_at %v, token_age_seconds %v, schedule_state %v", s.ID, s.TokenExpiresAt, s.TokenAge, s.ScheduleState)
		} else if _, err := time.Parse(time.RFC3339, *s.TokenExpiresAt); err != nil || !strings.HasSuffix(*s.TokenExpiresAt, "Z") {
			t.Errorf("%s: token_expires_at %q is not RFC 3339 UTC", s.ID, *s.TokenExpiresAt)
		}
	}
	if want := map[string]string{f.ID("sb-lj1"): "ok", f.ID("sb-lj2"): "orphaned"}; !maps.Equal(got, want) {
		t.Errorf("statuses %v, want %v\n%s", got, want, out.String())
	}
	key, err := os.ReadFile(f.Written.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	fleettest.AssertNoSecret(t, out.String(), string(key))
}

// TestListStatusesDocumented: every status List can set (the string
// constants assigned to a Status field in this package) is one of the
// documented ListStatuses, and the schema's enum is exactly that list.
func TestListStatusesDocumented(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	// The plan's statuses are reconcile's (FoldSandboxStatus).
	names = append(names, filepath.Join("..", "..", "reconcile", "status.go"))
	consts := map[string]string{}
	aliases := map[string]string{} // StatusOK = reconcile.StatusOK
	var used []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		{
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, name := range n.Names {
						if i < len(n.Values) {
							if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.HasPrefix(name.Name, "Status") {
								consts[name.Name], _ = strconv.Unquote(lit.Value)
							}
							if sel, ok := n.Values[i].(*ast.SelectorExpr); ok && strings.HasPrefix(name.Name, "Status") {
								aliases[name.Name] = sel.Sel.Name
							}
						}
					}
				case *ast.AssignStmt:
					for i, lhs := range n.Lhs {
						if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Status" && i < len(n.Rhs) {
							used = append(used, types.ExprString(n.Rhs[i]))
						}
					}
				case *ast.KeyValueExpr:
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Status" {
						used = append(used, types.ExprString(n.Value))
					}
				case *ast.FuncDecl:
					if n.Name.Name == "FoldSandboxStatus" {
						ast.Inspect(n.Body, func(m ast.Node) bool {
							if r, ok := m.(*ast.ReturnStmt); ok {
								for _, e := range r.Results {
									used = append(used, types.ExprString(e))
								}
							}
							return true
						})
					}
				}
				return true
			})
		}
	}
	if len(used) < 5 {
		t.Fatalf("found %d assignments to Status (%v): the test no longer sees how List sets statuses", len(used), used)
	}
	documented := sandboxes.ListStatuses()
	for _, u := range used {
		v := u
		if a, ok := aliases[u]; ok {
			u = a
		}
		if c, ok := consts[u]; ok {
			v = c
		} else if s, err := strconv.Unquote(u); err == nil {
			v = s
		} else {
			continue // not a constant: checked at render time
		}
		if !slices.Contains(documented, v) {
			t.Errorf("List sets status %q, not among the documented %v: add it to ListStatuses, docs/read-json.md and docs/list-json.schema.json", v, documented)
		}
	}
	var sch struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	b, err := os.ReadFile(filepath.Join(schematest.Root(t), "docs", "list-json.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sch); err != nil {
		t.Fatal(err)
	}
	enum := sch.Defs["sandbox"].Properties["status"].Enum
	sort.Strings(enum)
	sort.Strings(documented)
	if !slices.Equal(enum, documented) {
		t.Errorf("schema status enum %v, ListStatuses %v", enum, documented)
	}
}
