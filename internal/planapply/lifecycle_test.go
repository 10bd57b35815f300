package planapply_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/state"
)

func TestCreateDestroyRecreate(t *testing.T) {
	f := newFixture(t, "kmlife", []string{"sb-life00"})
	f.apply()
	f.startRefresher() // destroy revokes through it
	ctx := context.Background()
	n := names.New(f.prefix)
	before, _ := os.ReadFile(f.written.ConfigPath)

	id, err := planapply.Create(ctx, f.env(), planapply.CreateOptions{Profile: "my-profile", ID: f.id("sb-life01"), Principal: "arn:aws:iam::123456789012:role/km-sandbox-" + f.id("sb-life01"), AutoApprove: true})
	if err != nil || id != f.id("sb-life01") {
		t.Fatalf("create: %q %v\n%s", id, err, f.out.String())
	}
	after, _ := os.ReadFile(f.written.ConfigPath)
	if !strings.HasPrefix(string(after), string(before)) || !strings.Contains(string(after), "- id: "+f.id("sb-life01")) {
		t.Fatalf("km.yaml not extended in place:\n%s", after)
	}
	tok, err := f.aws.GetParameter(ctx, "/sandbox/"+f.id("sb-life01")+"/github-token", true)
	if err != nil {
		t.Fatal(err)
	}
	is, ok := f.sim.LookupToken(tok.Value)
	if !ok || strings.Join(is.Repositories, ",") != "my-repo" {
		t.Fatalf("created token scope: %+v", is)
	}
	if p := f.plan(); p.HasChanges() {
		t.Fatalf("plan after create: %v", actions(p))
	}
	rows, err := f.session().List(ctx)
	if err != nil || len(rows) != 2 || rows[1].ID != f.id("sb-life01") || rows[1].Status != "ok" {
		t.Fatalf("list: %+v %v", rows, err)
	}

	key, _ := f.aws.DescribeKey(ctx, n.KeyAlias(f.id("sb-life01")))
	if err := planapply.Destroy(ctx, f.env(), planapply.DestroyOptions{ID: f.id("sb-life01"), AutoApprove: true}); err != nil {
		t.Fatalf("destroy: %v\n%s", err, f.out.String())
	}
	if is, _ := f.sim.LookupToken(tok.Value); !is.Revoked {
		t.Fatal("token not revoked at GitHub")
	}
	if _, err := f.aws.GetParameter(ctx, "/sandbox/"+f.id("sb-life01")+"/github-token", false); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("token parameter left: %v", err)
	}
	if k, _ := f.aws.DescribeKey(ctx, key.KeyID); k.State != "PendingDeletion" {
		t.Fatalf("key state %q", k.State)
	}
	if b, _ := os.ReadFile(f.written.ConfigPath); string(b) != string(before) {
		t.Fatalf("km.yaml after destroy differs from before create:\n%s", b)
	}

	// Re-create the same id while the old key awaits deletion.
	if _, err := planapply.Create(ctx, f.env(), planapply.CreateOptions{Profile: "my-profile", ID: f.id("sb-life01"), Principal: "arn:aws:iam::123456789012:role/km-sandbox-" + f.id("sb-life01"), AutoApprove: true}); err != nil {
		t.Fatalf("re-create: %v\n%s", err, f.out.String())
	}
	k2, err := f.aws.DescribeKey(ctx, n.KeyAlias(f.id("sb-life01")))
	if err != nil || k2.State != "Enabled" {
		t.Fatalf("re-created key: %+v %v", k2, err)
	}
	if p := f.plan(); p.HasChanges() {
		t.Fatalf("plan after re-create: %v", actions(p))
	}
}

// An orphaned parameter and schedule in km's namespace are removed; an
// unrelated parameter stays.
func TestOrphansRemovedUnrelatedKept(t *testing.T) {
	f := newFixture(t, "kmorph", []string{"sb-orph00"})
	f.apply()
	ctx := context.Background()
	n := names.New(f.prefix)
	// Copy a live token parameter's metadata to an undeclared sandbox.
	live, _ := f.aws.DescribeParameters(ctx, "/sandbox/"+f.id("sb-orph00"))
	var desc string
	for _, p := range live {
		if p.Name == "/sandbox/"+f.id("sb-orph00")+"/github-token" {
			desc = p.Description
		}
	}
	if _, err := f.aws.PutParameter(ctx, state.PutParameterInput{Name: "/sandbox/" + f.id("sb-orph99") + "/github-token", Type: "SecureString", Value: "x", Description: desc}); err != nil {
		t.Fatal(err)
	}
	s, _ := f.aws.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.id("sb-orph00")))
	s.Name = n.Schedule(f.id("sb-orph99"))
	if _, err := f.aws.CreateSchedule(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := f.aws.PutParameter(ctx, state.PutParameterInput{Name: "/sandbox/" + f.id("sb-orph99") + "/unrelated", Type: "String", Value: "keep"}); err != nil {
		t.Fatal(err)
	}
	got := actions(f.plan())
	if len(got) != 2 || got[`sandbox["`+f.id("sb-orph99")+`"].km_github_token["my-user"]`] != "delete" || got[`sandbox["`+f.id("sb-orph99")+`"].aws_scheduler_schedule.refresh`] != "delete" {
		t.Fatalf("orphan plan: %v", got)
	}
	f.applyAllowing(1) // 1 of 2 sandboxes: past safety.maxDestroyPercent
	if _, err := f.aws.GetParameter(ctx, "/sandbox/"+f.id("sb-orph99")+"/unrelated", false); err != nil {
		t.Fatalf("unrelated parameter touched: %v", err)
	}
	if p := f.plan(); p.HasChanges() {
		t.Fatalf("after orphan cleanup: %v", actions(p))
	}
}

// A failed apply during create leaves km.yaml unchanged.
func TestCreateFailureRestoresConfig(t *testing.T) {
	f := newFixture(t, "kmfail", []string{"sb-fail00"})
	f.apply()
	before, _ := os.ReadFile(f.written.ConfigPath)
	f.sim.FailNext("POST", "/app/installations/", 422)
	_, err := planapply.Create(context.Background(), f.env(), planapply.CreateOptions{Profile: "my-profile", ID: f.id("sb-fail01"), Principal: "arn:aws:iam::123456789012:role/km-sandbox-" + f.id("sb-fail01"), AutoApprove: true})
	if err == nil {
		t.Fatal("create succeeded despite GitHub refusing the token")
	}
	if after, _ := os.ReadFile(f.written.ConfigPath); string(after) != string(before) {
		t.Fatalf("km.yaml changed after a failed create:\n%s", after)
	}
}
