package reconcile

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/klankermaker/km/state"
)

// fakeKeys implements KeyAPI over maps of keys and aliases; noCancel answers
// CancelKeyDeletion as an endpoint without it (kumo).
type fakeKeys struct {
	AWS      // nil: a call outside KeyAPI panics
	keys     map[string]state.Key
	policy   map[string]string
	aliases  map[string]string
	tags     map[string]map[string]string
	noCancel bool
	calls    calls
}

func newFakeKeys() *fakeKeys {
	return &fakeKeys{keys: map[string]state.Key{}, policy: map[string]string{}, aliases: map[string]string{}}
}

func (f *fakeKeys) DescribeKey(_ context.Context, id string) (state.Key, error) {
	f.calls.add("DescribeKey", id)
	if t, ok := f.aliases[id]; ok {
		id = t
	}
	k, ok := f.keys[id]
	if !ok {
		return state.Key{}, state.ErrNotFound
	}
	return k, nil
}

func (f *fakeKeys) GetKeyPolicy(_ context.Context, id string) (string, error) {
	f.calls.add("GetKeyPolicy", id)
	return f.policy[id], nil
}

func (f *fakeKeys) ListAliases(_ context.Context, prefix string) ([]state.Alias, error) {
	f.calls.add("ListAliases", prefix)
	return nil, nil
}

func (f *fakeKeys) CreateKey(_ context.Context, desc, policy string, _ map[string]string) (state.Key, error) {
	id := "k" + string(rune('1'+len(f.keys)))
	f.calls.add("CreateKey", id)
	f.keys[id] = state.Key{KeyID: id, State: "Enabled", Description: desc}
	f.policy[id] = policy
	return f.keys[id], nil
}

func (f *fakeKeys) PutKeyPolicy(_ context.Context, id, policy string) error {
	f.calls.add("PutKeyPolicy", id)
	f.policy[id] = policy
	return nil
}

func (f *fakeKeys) ScheduleKeyDeletion(_ context.Context, id string, days int32) (time.Time, error) {
	f.calls.add("ScheduleKeyDeletion", id, days)
	k, ok := f.keys[id]
	if !ok {
		return time.Time{}, state.ErrNotFound
	}
	k.State = "PendingDeletion"
	f.keys[id] = k
	return time.Time{}, nil
}

func (f *fakeKeys) CancelKeyDeletion(_ context.Context, id string) error {
	f.calls.add("CancelKeyDeletion", id)
	if f.noCancel {
		return state.ErrUnsupported
	}
	k := f.keys[id]
	k.State = "Disabled" // as AWS: a cancelled key is disabled until enabled
	f.keys[id] = k
	return nil
}

func (f *fakeKeys) ListKeys(context.Context) ([]string, error) {
	f.calls.add("ListKeys")
	var ids []string
	for id := range f.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

func (f *fakeKeys) ListResourceTags(_ context.Context, id string) (map[string]string, error) {
	f.calls.add("ListResourceTags", id)
	return f.tags[id], nil
}

func (f *fakeKeys) CreateAlias(_ context.Context, alias, id string) error {
	f.calls.add("CreateAlias", alias, id)
	f.aliases[alias] = id
	return nil
}

func (f *fakeKeys) UpdateAlias(_ context.Context, alias, id string) error {
	f.calls.add("UpdateAlias", alias, id)
	f.aliases[alias] = id
	return nil
}

func (f *fakeKeys) DeleteAlias(_ context.Context, alias string) error {
	f.calls.add("DeleteAlias", alias)
	delete(f.aliases, alias)
	return nil
}

func keyRes(id, state, policy string) *Resource {
	r := res(TypeKey, addrKey("sb"), id, "description", "km GitHub token key for sandbox sb", "policy", policy, "key_state", state, "key_id", id)
	r.Sandbox = "sb"
	return r
}

func TestKeyDiff(t *testing.T) {
	want := keyRes(Unknown, "Enabled", `{"p":1}`)
	pending := keyRes("k1", "PendingDeletion", `{"p":1}`)
	pending.Extra = state.Key{KeyID: "k1", State: "PendingDeletion", DeletionDate: time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)}
	checkDiff(t, keyKind{}, []diffCase{
		{"missing", want, nil, Create, "key missing"},
		{"same policy, other layout", want, keyRes("k1", "Enabled", `{ "p": 1 }`), NoOp, ""},
		{"policy changed", want, keyRes("k1", "Enabled", `{"p":2}`), Update, "key policy differs"},
		{"policy names what apply creates", keyRes(Unknown, "Enabled", Unknown), keyRes("k1", "Enabled", `{"p":1}`), Update, "known after apply"},
		{"pending deletion", want, pending, Update, "pending deletion (on 2026-02-03)"},
		{"disabled", want, keyRes("k1", "Disabled", `{"p":1}`), Replace, "key is disabled"},
		{"orphan", nil, keyRes("k1", "Enabled", `{"p":1}`), Delete, "scheduled for deletion in 7 days"},
		{"orphan already pending deletion", nil, pending, NoOp, ""},
	})
}

func TestKeyApply(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		noCancel bool
		act      Action
		live     *Resource
		want     string
		keyID    string
		alias    string // where alias/kmt-github-token-sb points after
	}{
		{"create", false, Create, nil, "CreateKey k2", "k2", "k1"},
		{"policy", false, Update, keyRes("k1", "Enabled", `{"p":0}`), "PutKeyPolicy k1", "k1", "k1"},
		{"cancel deletion", false, Update, keyRes("k1", "PendingDeletion", `{"p":1}`), "CancelKeyDeletion k1; PutKeyPolicy k1", "k1", "k1"},
		{"cannot cancel: new key, alias moves", true, Update, keyRes("k1", "PendingDeletion", `{"p":1}`), "CancelKeyDeletion k1; CreateKey k2; UpdateAlias alias/kmt-github-token-sb k2", "k2", "k2"},
		{"delete", false, Delete, keyRes("k1", "Enabled", `{"p":1}`), "ScheduleKeyDeletion k1 7", "", "k1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeKeys()
			f.noCancel = tc.noCancel
			f.keys["k1"] = state.Key{KeyID: "k1", State: "Enabled"}
			f.aliases["alias/kmt-github-token-sb"] = "k1"
			var desired *Resource
			if tc.act != Delete {
				desired = keyRes(Unknown, "Enabled", `{"p":1}`)
			}
			out, err := keyKind{}.Apply(ctx, fakeRuntime(f), changeFor(desired, tc.live, tc.act))
			if err != nil || f.calls.String() != tc.want || out["key_id"] != tc.keyID {
				t.Fatalf("Apply: %v %v, calls %q want %q", out, err, f.calls, tc.want)
			}
			if f.aliases["alias/kmt-github-token-sb"] != tc.alias {
				t.Errorf("alias points to %s, want %s", f.aliases["alias/kmt-github-token-sb"], tc.alias)
			}
			if tc.keyID != "" && f.policy[tc.keyID] != `{"p":1}` {
				t.Errorf("policy of %s: %q", tc.keyID, f.policy[tc.keyID])
			}
		})
	}
}
