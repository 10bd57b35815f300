package planapply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
)

// Keys an interrupted apply created but never aliased (CreateKey done,
// CreateAlias not) are shown by plan: a declared sandbox without a key adopts
// its key instead of creating another; every other such key is scheduled for
// deletion. After one apply, plan has no changes and no key is left enabled
// without an alias.
func TestLeakedKeysAdoptedOrDeleted(t *testing.T) {
	ids := []string{"sb-leak1", "sb-leak2"}
	f := newFixture(t, "kmleak", ids)
	ids = f.IDs(ids)
	ctx := context.Background()
	n := names.New(f.Prefix)
	tags := func(id string) map[string]string {
		return map[string]string{names.TagManaged: "true", names.TagPrefix: f.Prefix, names.TagSandbox: id}
	}
	// sb-leak1 was killed after CreateKey: its key exists, no alias, no token.
	adopt, err := f.AWS.CreateKey(ctx, "km GitHub token key for sandbox "+f.ID("sb-leak1"), "", tags(f.ID("sb-leak1")))
	if err != nil {
		t.Fatal(err)
	}
	// A sandbox no longer declared, and another prefix's key: the first is
	// leaked, the second is not km's business here.
	gone, _ := f.AWS.CreateKey(ctx, "km GitHub token key for sandbox "+f.ID("sb-leak9"), "", tags(f.ID("sb-leak9")))
	other, _ := f.AWS.CreateKey(ctx, "other prefix", "", map[string]string{names.TagPrefix: "kmother", names.TagSandbox: "sb-leak1"})

	got := fleettest.Actions(f.Plan())
	want := map[string]reconcile.Action{
		`sandbox["` + f.ID("sb-leak1") + `"].aws_kms_alias.token`:                         reconcile.Create,
		`sandbox["` + f.ID("sb-leak9") + `"].aws_kms_key.unaliased["` + gone.KeyID + `"]`: reconcile.Delete,
		`sandbox["` + f.ID("sb-leak2") + `"].aws_kms_key.token`:                           reconcile.Create,
	}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s: %q, want %q (plan %v)", a, got[a], w, got)
		}
	}
	if _, ok := got[`sandbox["`+f.ID("sb-leak1")+`"].aws_kms_key.token`]; ok && got[`sandbox["`+f.ID("sb-leak1")+`"].aws_kms_key.token`] != reconcile.Update {
		t.Errorf(f.ID("sb-leak1")+" key not adopted: %v", got)
	}
	var text strings.Builder
	p := f.Plan()
	if err := views.RenderText(&text, p, views.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "leaked: tagged for sandbox "+f.ID("sb-leak9")+", which is not in km.yaml, and no alias names it") {
		t.Errorf("plan text does not explain the leaked key:\n%s", text.String())
	}

	f.Apply()
	k, err := f.AWS.DescribeKey(ctx, n.KeyAlias(f.ID("sb-leak1")))
	if err != nil || k.KeyID != adopt.KeyID {
		t.Fatalf(f.ID("sb-leak1")+"'s alias names %s (%v), want the adopted key %s", k.KeyID, err, adopt.KeyID)
	}
	// sb-leak2 now has a key; a second one, as a lost CreateKey answer would
	// leave, is deleted, the aliased one kept.
	dup, _ := f.AWS.CreateKey(ctx, "km GitHub token key for sandbox "+f.ID("sb-leak2"), "", tags(f.ID("sb-leak2")))
	got = fleettest.Actions(f.Plan())
	if len(got) != 1 || got[`sandbox["`+f.ID("sb-leak2")+`"].aws_kms_key.unaliased["`+dup.KeyID+`"]`] != reconcile.Delete {
		for _, c := range f.Plan().Changes {
			t.Logf("%s %s: %s", c.Action, c.Address, c.Reason)
		}
		t.Fatalf("duplicate key plan: %v", got)
	}
	f.Apply()
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after adoption and cleanup: %v", fleettest.Actions(p))
	}
	for _, kid := range []string{gone.KeyID, dup.KeyID} {
		if k, _ := f.AWS.DescribeKey(ctx, kid); k.State != "PendingDeletion" {
			t.Errorf("leaked key %s is %s, want PendingDeletion", kid, k.State)
		}
	}
	if k, _ := f.AWS.DescribeKey(ctx, other.KeyID); k.State != "Enabled" {
		t.Errorf("another prefix's key was touched: %s", k.State)
	}
}

// An App key created by an apply killed before its alias (found by the crash
// test) is planned for deletion, never left enabled beside the aliased one.
func TestLeakedAppKeyDeleted(t *testing.T) {
	f := newFixture(t, "kmleakapp", []string{"sb-lapp1"})
	f.Apply()
	ctx := context.Background()
	tags := map[string]string{names.TagManaged: "true", names.TagPrefix: f.Prefix, "km:purpose": "github-app"}
	leak, err := f.AWS.CreateKey(ctx, "km GitHub App private key", "", tags)
	if err != nil {
		t.Fatal(err)
	}
	addr := `aws_kms_key.github_app_unaliased["` + leak.KeyID + `"]`
	if got := fleettest.Actions(f.Plan()); len(got) != 1 || got[addr] != reconcile.Delete {
		t.Fatalf("plan %v, want only %s deleted", got, addr)
	}
	f.Apply()
	if k, err := f.AWS.DescribeKey(ctx, leak.KeyID); err != nil || k.State != "PendingDeletion" {
		t.Fatalf("leaked App key %+v (%v), want PendingDeletion", k, err)
	}
	if k, err := f.AWS.DescribeKey(ctx, "alias/"+f.Prefix+"-github-app"); err != nil || k.State != "Enabled" || k.KeyID == leak.KeyID {
		t.Fatalf("the aliased App key %+v (%v) should stay enabled", k, err)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after apply: %v", fleettest.Actions(p))
	}
}
