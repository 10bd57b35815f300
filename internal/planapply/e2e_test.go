package planapply_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
)

// fixture is fleettest's Fixture with this package's helpers (revoke_test.go).
type fixture struct{ *fleettest.Fixture }

// refresher is cmd/km-refresher, built once for this test binary.
var refresher refreshertest.Binary

func newFixture(t *testing.T, prefix string, ids []string) *fixture {
	return &fixture{fleettest.New(t, &refresher, prefix, ids)}
}

func TestApplyFromScratchThenNoChanges(t *testing.T) {
	f := newFixture(t, "kme2e1", []string{"sb-e2e1a", "sb-e2e1b"})
	p := f.Plan()
	add, change, destroy := p.Counts()
	// 5 config params + 2 roles + log group + function + schedule group +
	// the App key and its alias = 12; per sandbox: key, alias, 2 tokens
	// (my-user, my-org), schedule = 5.
	if add != 12+2*5 || change != 0 || destroy != 0 {
		var b strings.Builder
		_ = views.RenderText(&b, p, views.TextOptions{})
		t.Fatalf("first plan: %d/%d/%d, want 22/0/0\n%s", add, change, destroy, b.String())
	}
	f.Apply()

	// What landed in AWS.
	ctx := context.Background()
	n := names.New(f.Prefix)
	tok, err := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-e2e1a")+"/github-token", true)
	if err != nil {
		t.Fatal(err)
	}
	issued, ok := f.Sim.LookupToken(tok.Value)
	if !ok {
		t.Fatalf("the token in SSM was not issued by the GitHub simulator")
	}
	if issued.Account != "my-user" || strings.Join(issued.Repositories, ",") != "my-repo" || issued.Permissions["contents"] != "write" {
		t.Fatalf("first owner token scope: %+v", issued)
	}
	org, err := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-e2e1a")+"/github-token-my-org", true)
	if err != nil {
		t.Fatal(err)
	}
	if is, ok := f.Sim.LookupToken(org.Value); !ok || is.Account != "my-org" || is.Repositories != nil {
		t.Fatalf("org token scope: %+v (found %v)", is, ok)
	}
	if _, err := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-e2e1b"))); err != nil {
		t.Fatalf("sandbox key alias: %v", err)
	}
	if s, err := f.AWS.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.ID("sb-e2e1b"))); err != nil || s.Expression != "rate(45 minutes)" || s.State != "ENABLED" {
		t.Fatalf("schedule: %+v %v", s, err)
	}
	if fn, err := f.AWS.GetFunction(ctx, n.Function()); err != nil || fn.CodeSHA256 != reconcile.ZipSHA256([]byte("zip-v1")) || fn.Architecture != "arm64" || fn.MemoryMB != 128 {
		t.Fatalf("function: %+v %v", fn, err)
	}

	// A second plan finds nothing to do, and a no-op apply writes nothing and
	// asks GitHub nothing.
	before := len(f.Sim.Requests())
	f.Rec.Reset()
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("second plan has changes: %v", fleettest.Actions(p))
	}
	f.Apply()
	// The only writes are the state lock's: put and delete, for plan and apply.
	if w := f.Rec.CountWrites(); w != 4 {
		var ops []string
		for _, c := range f.Rec.Calls() {
			ops = append(ops, c.Operation)
		}
		t.Fatalf("no-op plan+apply made %d writes, want 4 (lock only): %v", w, ops)
	}
	t.Logf("apply output:\n%s", f.Out.String())
	if after := len(f.Sim.Requests()); after != before {
		t.Fatalf("no-op apply made %d GitHub requests", after-before)
	}
	// Secrets never printed.
	pem, _ := os.ReadFile(f.Written.KeyPath)
	fleettest.AssertNoSecret(t, f.Out.String(), tok.Value, org.Value, string(pem))
}
