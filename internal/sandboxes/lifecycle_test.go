package sandboxes_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxes"
	"github.com/klankermaker/km/state"
)

func TestCreateDestroyRecreate(t *testing.T) {
	f := newFixture(t, "kmlife", []string{"sb-life00"})
	f.Apply()
	f.StartRefresher() // destroy revokes through it
	ctx := context.Background()
	n := names.New(f.Prefix)
	before, _ := os.ReadFile(f.Written.ConfigPath)

	id, err := sandboxes.Create(ctx, f.Env(), sandboxes.CreateOptions{Profile: "my-profile", ID: f.ID("sb-life01"), Principal: "arn:aws:iam::123456789012:role/km-sandbox-" + f.ID("sb-life01"), AutoApprove: true})
	if err != nil || id != f.ID("sb-life01") {
		t.Fatalf("create: %q %v\n%s", id, err, f.Out.String())
	}
	after, _ := os.ReadFile(f.Written.ConfigPath)
	if !strings.HasPrefix(string(after), string(before)) || !strings.Contains(string(after), "- id: "+f.ID("sb-life01")) {
		t.Fatalf("km.yaml not extended in place:\n%s", after)
	}
	tok, err := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-life01")+"/github-token", true)
	if err != nil {
		t.Fatal(err)
	}
	is, ok := f.Sim.LookupToken(tok.Value)
	if !ok || strings.Join(is.Repositories, ",") != "my-repo" {
		t.Fatalf("created token scope: %+v", is)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after create: %v", fleettest.Actions(p))
	}
	rows, err := sandboxes.List(ctx, f.Session())
	if err != nil || len(rows) != 2 || rows[1].ID != f.ID("sb-life01") || rows[1].Status != "ok" {
		t.Fatalf("list: %+v %v", rows, err)
	}

	key, _ := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-life01")))
	if err := sandboxes.Destroy(ctx, f.Env(), sandboxes.DestroyOptions{ID: f.ID("sb-life01"), AutoApprove: true}); err != nil {
		t.Fatalf("destroy: %v\n%s", err, f.Out.String())
	}
	if is, _ := f.Sim.LookupToken(tok.Value); !is.Revoked {
		t.Fatal("token not revoked at GitHub")
	}
	if _, err := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-life01")+"/github-token", false); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("token parameter left: %v", err)
	}
	if k, _ := f.AWS.DescribeKey(ctx, key.KeyID); k.State != "PendingDeletion" {
		t.Fatalf("key state %q", k.State)
	}
	if b, _ := os.ReadFile(f.Written.ConfigPath); string(b) != string(before) {
		t.Fatalf("km.yaml after destroy differs from before create:\n%s", b)
	}

	// Re-create the same id while the old key awaits deletion.
	if _, err := sandboxes.Create(ctx, f.Env(), sandboxes.CreateOptions{Profile: "my-profile", ID: f.ID("sb-life01"), Principal: "arn:aws:iam::123456789012:role/km-sandbox-" + f.ID("sb-life01"), AutoApprove: true}); err != nil {
		t.Fatalf("re-create: %v\n%s", err, f.Out.String())
	}
	k2, err := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-life01")))
	if err != nil || k2.State != "Enabled" {
		t.Fatalf("re-created key: %+v %v", k2, err)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after re-create: %v", fleettest.Actions(p))
	}
}

// An orphaned parameter and schedule in km's namespace are removed; an
// unrelated parameter stays.
func TestOrphansRemovedUnrelatedKept(t *testing.T) {
	f := newFixture(t, "kmorph", []string{"sb-orph00"})
	f.Apply()
	ctx := context.Background()
	n := names.New(f.Prefix)
	// Copy a live token parameter's metadata to an undeclared sandbox.
	live, _ := f.AWS.DescribeParameters(ctx, "/sandbox/"+f.ID("sb-orph00"))
	var desc string
	for _, p := range live {
		if p.Name == "/sandbox/"+f.ID("sb-orph00")+"/github-token" {
			desc = p.Description
		}
	}
	if _, err := f.AWS.PutParameter(ctx, state.PutParameterInput{Name: "/sandbox/" + f.ID("sb-orph99") + "/github-token", Type: "SecureString", Value: "x", Description: desc}); err != nil {
		t.Fatal(err)
	}
	s, _ := f.AWS.GetSchedule(ctx, n.ScheduleGroup(), n.Schedule(f.ID("sb-orph00")))
	s.Name = n.Schedule(f.ID("sb-orph99"))
	if _, err := f.AWS.CreateSchedule(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AWS.PutParameter(ctx, state.PutParameterInput{Name: "/sandbox/" + f.ID("sb-orph99") + "/unrelated", Type: "String", Value: "keep"}); err != nil {
		t.Fatal(err)
	}
	got := fleettest.Actions(f.Plan())
	if len(got) != 2 || got[`sandbox["`+f.ID("sb-orph99")+`"].km_github_token["my-user"]`] != "delete" || got[`sandbox["`+f.ID("sb-orph99")+`"].aws_scheduler_schedule.refresh`] != "delete" {
		t.Fatalf("orphan plan: %v", got)
	}
	f.ApplyAllowing(1) // 1 of 2 sandboxes: past safety.maxDestroyPercent
	if _, err := f.AWS.GetParameter(ctx, "/sandbox/"+f.ID("sb-orph99")+"/unrelated", false); err != nil {
		t.Fatalf("unrelated parameter touched: %v", err)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after orphan cleanup: %v", fleettest.Actions(p))
	}
}

// A failed apply during create leaves km.yaml unchanged.
func TestCreateFailureRestoresConfig(t *testing.T) {
	f := newFixture(t, "kmfail", []string{"sb-fail00"})
	f.Apply()
	before, _ := os.ReadFile(f.Written.ConfigPath)
	f.Sim.FailNext("POST", "/app/installations/", 422)
	_, err := sandboxes.Create(context.Background(), f.Env(), sandboxes.CreateOptions{Profile: "my-profile", ID: f.ID("sb-fail01"), Principal: "arn:aws:iam::123456789012:role/km-sandbox-" + f.ID("sb-fail01"), AutoApprove: true})
	if err == nil {
		t.Fatal("create succeeded despite GitHub refusing the token")
	}
	if after, _ := os.ReadFile(f.Written.ConfigPath); string(after) != string(before) {
		t.Fatalf("km.yaml changed after a failed create:\n%s", after)
	}
}
