package reconcile

import (
	"context"
	"testing"

	"github.com/klankermaker/km/state"
)

// fakeAliases implements AliasAPI over a map alias -> key id; unsupported
// makes UpdateAlias fail as on an endpoint without it (kumo).
type fakeAliases struct {
	AWS         // nil: a call outside AliasAPI panics
	target      map[string]string
	unsupported bool
	calls       calls
}

func (f *fakeAliases) CreateAlias(_ context.Context, alias, keyID string) error {
	f.calls.add("CreateAlias", alias, keyID)
	if _, ok := f.target[alias]; ok {
		return state.ErrAlreadyExists
	}
	f.target[alias] = keyID
	return nil
}

func (f *fakeAliases) UpdateAlias(_ context.Context, alias, keyID string) error {
	f.calls.add("UpdateAlias", alias, keyID)
	if f.unsupported {
		return state.ErrUnsupported
	}
	f.target[alias] = keyID
	return nil
}

func (f *fakeAliases) DeleteAlias(_ context.Context, alias string) error {
	f.calls.add("DeleteAlias", alias)
	if _, ok := f.target[alias]; !ok {
		return state.ErrNotFound
	}
	delete(f.target, alias)
	return nil
}

func TestAliasDiff(t *testing.T) {
	want := res(TypeAlias, addrAlias("sb"), "alias/a", "name", "alias/a", "target_key_id", "k1")
	orphan := res(TypeAlias, addrAlias("gone"), "alias/g", "name", "alias/g", "target_key_id", "k9")
	orphan.Sandbox = "gone"
	checkDiff(t, aliasKind{}, []diffCase{
		{"missing", want, nil, Create, "alias missing"},
		{"same", want, res(TypeAlias, addrAlias("sb"), "alias/a", "name", "alias/a", "target_key_id", "k1"), NoOp, ""},
		{"points elsewhere", want, res(TypeAlias, addrAlias("sb"), "alias/a", "name", "alias/a", "target_key_id", "k2"), Update, "target_key_id differs"},
		{"orphan", nil, orphan, Delete, "sandbox gone is not in km.yaml"},
	})
}

func TestAliasApply(t *testing.T) {
	ctx := context.Background()
	d := res(TypeAlias, addrAlias("sb"), "alias/a", "name", "alias/a", "target_key_id", "k1")
	for _, tc := range []struct {
		name        string
		target      map[string]string
		unsupported bool
		act         Action
		want        string
		after       map[string]string
	}{
		{"create", map[string]string{}, false, Create, "CreateAlias alias/a k1", map[string]string{"alias/a": "k1"}},
		{"create finds it exists", map[string]string{"alias/a": "k0"}, false, Create, "CreateAlias alias/a k1; UpdateAlias alias/a k1", map[string]string{"alias/a": "k1"}},
		{"update", map[string]string{"alias/a": "k0"}, false, Update, "UpdateAlias alias/a k1", map[string]string{"alias/a": "k1"}},
		{"update without UpdateAlias", map[string]string{"alias/a": "k0"}, true, Update, "UpdateAlias alias/a k1; DeleteAlias alias/a; CreateAlias alias/a k1", map[string]string{"alias/a": "k1"}},
		{"delete", map[string]string{"alias/a": "k0"}, false, Delete, "DeleteAlias alias/a", map[string]string{}},
		{"delete already gone", map[string]string{}, false, Delete, "DeleteAlias alias/a", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAliases{target: tc.target, unsupported: tc.unsupported}
			desired := d
			if tc.act == Delete {
				desired = nil
			}
			_, err := aliasKind{}.Apply(ctx, fakeRuntime(f), changeFor(desired, d, tc.act))
			if err != nil || f.calls.String() != tc.want || len(f.target) != len(tc.after) || f.target["alias/a"] != tc.after["alias/a"] {
				t.Fatalf("Apply: %v, calls %q want %q, aliases %v want %v", err, f.calls, tc.want, f.target, tc.after)
			}
		})
	}
}
