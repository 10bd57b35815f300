package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klankermaker/km/state"
)

const TypeKey = "aws_kms_key"

// keyDeletionDays is the waiting period of a torn-down sandbox key.
const keyDeletionDays = 7

// keyKind: one customer-managed KMS key per sandbox.
type keyKind struct{}

func (keyKind) Type() string { return TypeKey }

// KeyAPI is the KMS slice the keys use (the App key's and the sandboxes');
// ListKeys and ListResourceTags only when an alias went missing. Reading a
// sandbox's key also asks the token kind whether its token exists (TokenAPI).
type KeyAPI interface {
	DescribeKey(ctx context.Context, keyIDOrAlias string) (state.Key, error)
	GetKeyPolicy(ctx context.Context, keyID string) (string, error)
	ListAliases(ctx context.Context, prefix string) ([]state.Alias, error)
	CreateKey(ctx context.Context, description, policy string, tags map[string]string) (state.Key, error)
	PutKeyPolicy(ctx context.Context, keyID, policy string) error
	ScheduleKeyDeletion(ctx context.Context, keyID string, days int32) (time.Time, error)
	CancelKeyDeletion(ctx context.Context, keyID string) error
	ListKeys(ctx context.Context) ([]string, error)
	ListResourceTags(ctx context.Context, keyID string) (map[string]string, error)
	CreateAlias(ctx context.Context, alias, keyID string) error
	UpdateAlias(ctx context.Context, alias, keyID string) error
	DeleteAlias(ctx context.Context, alias string) error
}

// sandboxKey is what was found for one sandbox's alias.
type sandboxKey struct {
	Sandbox string
	Alias   string
	Key     state.Key
	Policy  string
	Found   bool
	// AliasMissing: the key was found by its tags, its alias is gone.
	AliasMissing bool
}

// readSandboxKeys resolves each desired sandbox's alias to its key (DescribeKey
// accepts the alias) and reads the key policy: two calls a sandbox, shared by the
// key and alias kinds. Orphan aliases in km's namespace come from ListAliases.
func readSandboxKeys(ctx context.Context, rt *Runtime, ids []string) (map[string]*sandboxKey, error) {
	keys, _, err := readAllSandboxKeys(ctx, rt, ids)
	return keys, err
}

// sandboxKeys is what readAllSandboxKeys found: keys by sandbox, and keys
// tagged for a sandbox that no alias names and nothing adopted.
type sandboxKeys struct {
	keys   map[string]*sandboxKey
	leaked []*Resource
}

func readAllSandboxKeys(ctx context.Context, rt *Runtime, ids []string) (map[string]*sandboxKey, []*Resource, error) {
	v, err := rt.memo.get(ctx, "keys", func(ctx context.Context) (any, error) {
		out, err := readKeysByAlias(ctx, rt, ids, func(string) bool { return true })
		if err != nil {
			return nil, err
		}
		// Orphans: aliases in km's namespace whose sandbox is not declared.
		aliases, err := rt.AWS.ListAliases(ctx, rt.Names.KeyAliasPrefix())
		if err != nil {
			return nil, fmt.Errorf("listing KMS aliases %s*: %w", rt.Names.KeyAliasPrefix(), err)
		}
		for _, a := range aliases {
			id := strings.TrimPrefix(a.Name, rt.Names.KeyAliasPrefix())
			if _, ok := out[id]; ok || id == "" || a.TargetKeyID == "" {
				continue
			}
			sk := &sandboxKey{Sandbox: id, Alias: a.Name}
			k, err := rt.AWS.DescribeKey(ctx, a.TargetKeyID)
			if err != nil && !isNotFound(err) {
				return nil, fmt.Errorf("reading orphaned KMS key %s: %w", a.Name, err)
			}
			if err == nil {
				sk.Key, sk.Found = k, true
			} else {
				sk.Key.KeyID = a.TargetKeyID
			}
			out[id] = sk
		}
		leaked, err := scanUnaliasedKeys(ctx, rt, out)
		if err != nil {
			return nil, err
		}
		return sandboxKeys{keys: out, leaked: leaked}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	sk := v.(sandboxKeys)
	return sk.keys, sk.leaked, nil
}

// readKeysByAlias reads each sandbox's key through its alias, with the key
// policy when declared(id). An alias deleted out of band while a declared
// sandbox's token still exists is resolved by the key's tags instead of
// planning a new key.
func readKeysByAlias(ctx context.Context, rt *Runtime, ids []string, declared func(string) bool) (map[string]*sandboxKey, error) {
	out := map[string]*sandboxKey{}
	var mu sync.Mutex
	err := forEach(ctx, len(ids), rt.readParallelism(), func(ctx context.Context, i int) error {
		sk := &sandboxKey{Sandbox: ids[i], Alias: rt.Names.KeyAlias(ids[i])}
		k, err := rt.AWS.DescribeKey(ctx, sk.Alias)
		switch {
		case err == nil:
			sk.Key, sk.Found = k, true
			if declared(sk.Sandbox) {
				if sk.Policy, err = rt.AWS.GetKeyPolicy(ctx, k.KeyID); err != nil {
					return fmt.Errorf("reading the key policy of %s (%s): %w", sk.Alias, k.KeyID, err)
				}
			}
		case !isNotFound(err):
			return fmt.Errorf("reading KMS key %s: %w", sk.Alias, err)
		}
		mu.Lock()
		out[sk.Sandbox] = sk
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	var lost []string
	for _, id := range ids {
		if !out[id].Found && declared(id) && rt.tokenParamExists(ctx, id) {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		if err := findKeysByTag(ctx, rt, lost, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func desiredSandboxIDs(desired []*Resource) []string {
	seen := map[string]bool{}
	var ids []string
	for _, d := range desired {
		if d.Sandbox != "" && !seen[d.Sandbox] {
			seen[d.Sandbox] = true
			ids = append(ids, d.Sandbox)
		}
	}
	sort.Strings(ids)
	return ids
}

func (keyKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	keys, leaked, err := readAllSandboxKeys(ctx, rt, rt.sandboxIDs)
	if err != nil {
		return nil, err
	}
	var out []*Resource
	for _, sk := range keys {
		if !sk.Found {
			continue
		}
		out = append(out, liveKey(sk))
	}
	app, _, err := liveAppKey(ctx, rt)
	if err != nil {
		return nil, err
	}
	if app != nil {
		out = append(out, app)
	}
	return append(out, leaked...), nil
}

func liveKey(sk *sandboxKey) *Resource {
	r := &Resource{
		Address: addrKey(sk.Sandbox), Type: TypeKey, Sandbox: sk.Sandbox, ID: sk.Key.KeyID,
		Attrs: map[string]string{
			"key_id": sk.Key.KeyID, "key_state": sk.Key.State,
			"description": sk.Key.Description,
		},
		Extra: sk.Key,
	}
	if sk.Policy != "" {
		r.Attrs["policy"] = NormalizeJSONOr(sk.Policy)
	}
	r.Fingerprint = "state=" + sk.Key.State + " policy=" + shortHash(r.Attrs["policy"])
	return r
}

func (keyKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	switch {
	case desired == nil && live == nil:
		return NoOp, ""
	case desired == nil:
		if live.Attrs["key_state"] == "PendingDeletion" {
			return NoOp, ""
		}
		if l, ok := live.Extra.(leakedKey); ok {
			return diffLeaked(l, live.Sandbox)
		}
		return Delete, "orphaned: sandbox " + live.Sandbox + " is not in km.yaml (the key is scheduled for deletion in 7 days)"
	case live == nil:
		return Create, "key missing"
	}
	switch live.Attrs["key_state"] {
	case "PendingDeletion":
		k, _ := live.Extra.(state.Key)
		return Update, fmt.Sprintf("key is pending deletion (on %s); apply cancels the deletion, or creates a new key where the endpoint cannot", k.DeletionDate.Format(time.DateOnly))
	case "Disabled":
		return Replace, "key is disabled"
	}
	if desired.Attrs["policy"] == Unknown {
		// It names a principal this apply creates (an adopted key, or one
		// whose role is being replaced): set it once that is known.
		return Update, "key policy names resources this apply creates (known after apply)"
	}
	if !EqualAttr(desired.Attrs["policy"], live.Attrs["policy"]) {
		return Update, "key policy differs from the declaration"
	}
	return NoOp, ""
}

func (keyKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	switch c.Action {
	case Delete:
		if _, err := rt.AWS.ScheduleKeyDeletion(ctx, c.ID, keyDeletionDays); err != nil && !isNotFound(err) {
			return nil, err
		}
		return nil, nil
	case Create, Replace:
		return createKey(ctx, rt, c)
	}
	// Update.
	keyID := c.ID
	if c.Before["key_state"] == "PendingDeletion" {
		err := rt.AWS.CancelKeyDeletion(ctx, keyID)
		if err != nil {
			if !isUnsupported(err) {
				return nil, err
			}
			// The endpoint cannot cancel (kumo): a new key, and the alias
			// (planned as unchanged) moves to it.
			out, err := createKey(ctx, rt, c)
			if err != nil {
				return nil, err
			}
			return out, pointAlias(ctx, rt, keyAliasOf(rt, c), out["key_id"])
		}
	}
	if err := rt.AWS.PutKeyPolicy(ctx, keyID, c.desired.Attrs["policy"]); err != nil {
		return nil, err
	}
	return map[string]string{"key_id": keyID}, nil
}

func createKey(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	tags := keyTags(rt, c)
	for attempt := 1; ; attempt++ {
		k, err := rt.AWS.CreateKey(ctx, c.desired.Attrs["description"], c.desired.Attrs["policy"], tags)
		if err == nil {
			return map[string]string{"key_id": k.KeyID}, nil
		}
		if !state.MayHaveHappened(err) || attempt == 3 {
			return nil, err
		}
		// The answer was lost, not necessarily the key: find it by its tags,
		// and create it again only when it is not there.
		id, ferr := findCreatedKey(ctx, rt, tags)
		if ferr != nil {
			return nil, errors.Join(err, fmt.Errorf("looking for the key by its tags: %w", ferr))
		}
		if id != "" {
			return map[string]string{"key_id": id}, nil
		}
	}
}

// findKeysByTag scans the account's keys for km's sandbox tags (ListKeys and
// ListResourceTags): only used when an alias went missing, never on a normal plan.
func findKeysByTag(ctx context.Context, rt *Runtime, ids []string, out map[string]*sandboxKey) error {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	keyIDs, err := rt.AWS.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("listing KMS keys to find a key whose alias is missing: %w", err)
	}
	for _, kid := range keyIDs {
		tags, err := rt.AWS.ListResourceTags(ctx, kid)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return fmt.Errorf("reading tags of KMS key %s: %w", kid, err)
		}
		id := tags["km:sandbox"]
		if !want[id] || tags["km:prefix"] != rt.Names.Prefix {
			continue
		}
		k, err := rt.AWS.DescribeKey(ctx, kid)
		if err != nil {
			return fmt.Errorf("reading KMS key %s: %w", kid, err)
		}
		if k.State == "PendingDeletion" && out[id].Found {
			continue // prefer a live key over one awaiting deletion
		}
		pol, err := rt.AWS.GetKeyPolicy(ctx, kid)
		if err != nil {
			return fmt.Errorf("reading the key policy of %s: %w", kid, err)
		}
		out[id].Key, out[id].Policy, out[id].Found = k, pol, true
		out[id].AliasMissing = true
	}
	return nil
}

func addrKey(id string) string { return SandboxAddr(id) + ".aws_kms_key.token" }

// DependsOn: a key's policy names the refresher role.
func (keyKind) DependsOn() []string { return []string{TypeRole} }

// Desired declares the App key and one key per sandbox.
func (keyKind) Desired(d *decl) ([]*Resource, error) {
	out := []*Resource{desiredAppKey(d.rt, d.pe)}
	for _, sb := range d.sandboxes {
		out = append(out, &Resource{
			Address: addrKey(sb.ID), Type: TypeKey, Sandbox: sb.ID,
			Attrs: map[string]string{
				"description": "km GitHub token key for sandbox " + sb.ID,
				"policy":      keyPolicy(d.pe, sb.ID, sb.Principal, ref(addrRefresherRole, "arn")),
				"key_state":   "Enabled",
				"key_id":      Unknown,
			},
			DependsOn: []string{addrRefresherRole},
		})
	}
	return out, nil
}

// ReadTouched reads the touched keys and aliases of the App key and of the
// sandboxes they belong to only (readTouchedKeys).
func (keyKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedKeys(ctx, rt, touched, desiredBy, TypeKey)
}

// readTouchedKeys returns the live resources of type typ (key or alias) among
// touched: the App key's, read through its alias, and those of the sandboxes
// whose key or alias is touched, read once for both kinds (readKeysOf).
func readTouchedKeys(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource, typ string) ([]*Resource, error) {
	appKey := false
	seen := map[string]bool{}
	var ids []string
	for addr, t := range touched {
		switch {
		case isAppKey(addr):
			appKey = true
		case t == TypeKey || t == TypeAlias:
			if sb := sandboxOfAddress(addr); sb != "" && !seen[sb] {
				seen[sb] = true
				ids = append(ids, sb)
			}
		}
	}
	var out []*Resource
	if appKey {
		k, a, err := liveAppKey(ctx, rt)
		if err != nil {
			return nil, err
		}
		for _, r := range []*Resource{k, a} {
			if r != nil && r.Type == typ {
				out = append(out, r)
			}
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	sort.Strings(ids)
	v, err := rt.memo.get(ctx, "touched keys", func(ctx context.Context) (any, error) {
		return readKeysOf(ctx, rt, ids, desiredBy)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range v.([]*Resource) {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out, nil
}

// sandboxOfAddress returns the id in sandbox["id"].… or "".
func sandboxOfAddress(addr string) string {
	rest, ok := strings.CutPrefix(addr, `sandbox["`)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, `"]`)
	if !ok {
		return ""
	}
	return id
}

// readKeysOf reads the KMS key and alias of the given sandboxes only, the way
// the key and alias kinds read them during a plan (a declared sandbox's key
// with its policy; an undeclared one's without), so that the fingerprints
// compare.
func readKeysOf(ctx context.Context, rt *Runtime, ids []string, desiredBy map[string]*Resource) ([]*Resource, error) {
	declared := func(id string) bool { return desiredBy[addrKey(id)] != nil || desiredBy[addrAlias(id)] != nil }
	out, err := readKeysByAlias(ctx, rt, ids, declared)
	if err != nil {
		return nil, err
	}
	var rs []*Resource
	for _, id := range ids {
		sk := out[id]
		if sk.Found {
			rs = append(rs, liveKey(sk))
		}
		if sk.Found && !sk.AliasMissing {
			rs = append(rs, liveAlias(sk))
		}
	}
	return rs, nil
}
