package reconcile_test

import (
	"testing"

	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/reconcile"
)

func TestFoldSandboxStatus(t *testing.T) {
	expired := reconcile.Change{Type: reconcile.TypeToken, Action: reconcile.Update, Reason: "token expired at 2025-01-01T00:00:00Z"}
	newKey := reconcile.Change{Type: reconcile.TypeKey, Action: reconcile.Create}
	scope := reconcile.Change{Type: reconcile.TypeToken, Action: reconcile.Update, Reason: "scope changed: +repo"}
	for _, tc := range []struct {
		name     string
		changes  []reconcile.Change
		declared bool
		want     string
	}{
		{"no change", nil, true, reconcile.StatusOK},
		{"expired token", []reconcile.Change{expired}, true, reconcile.StatusExpired},
		{"no key yet", []reconcile.Change{newKey}, true, reconcile.StatusMissing},
		{"scope drift", []reconcile.Change{scope}, true, reconcile.StatusDrifted},
		{"the first change decides", []reconcile.Change{scope, expired}, true, reconcile.StatusDrifted},
		{"undeclared is orphaned whatever else", []reconcile.Change{expired, newKey}, false, reconcile.StatusOrphaned},
		{"an expiry reason on another type is drift", []reconcile.Change{{Type: reconcile.TypeSchedule, Action: reconcile.Update, Reason: "token expired"}}, true, reconcile.StatusDrifted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reconcile.StatusOK
			for i := range tc.changes {
				got = reconcile.FoldSandboxStatus(got, &tc.changes[i], tc.declared)
			}
			if got != tc.want {
				t.Errorf("status %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLiveTokenMeta(t *testing.T) {
	m := sandboxtoken.Meta{Owner: "acme"}
	if got, ok := reconcile.LiveTokenMeta(&reconcile.Resource{Type: reconcile.TypeToken, Extra: m}); !ok || got.Owner != "acme" {
		t.Errorf("token: %+v, %v", got, ok)
	}
	if _, ok := reconcile.LiveTokenMeta(&reconcile.Resource{Type: reconcile.TypeKey, Extra: m}); ok {
		t.Error("a key's Extra read as token metadata")
	}
	if _, ok := reconcile.LiveTokenMeta(&reconcile.Resource{Type: reconcile.TypeToken}); ok {
		t.Error("a token without metadata read as having some")
	}
}

func TestResourceTypesAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range reconcile.ResourceTypes() {
		if typ == "" || seen[typ] {
			t.Errorf("type %q empty or repeated", typ)
		}
		seen[typ] = true
	}
	if !seen[reconcile.TypeToken] || !seen[reconcile.TypeKey] {
		t.Errorf("ResourceTypes %v lacks the token or key kind", reconcile.ResourceTypes())
	}
}
