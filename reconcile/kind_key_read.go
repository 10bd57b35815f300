package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/klankermaker/km/state"
)

// The sandbox keys' reads, shared by the key and alias kinds (kind_key.go,
// kind_alias.go): a sandbox's key is read through its alias, so one read
// serves both.

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

// readTouchedKeys returns the live resources of type typ (key or alias) among
// touched: the App key's, read through its alias, and those of the sandboxes
// whose key or alias is touched, read once for both kinds (readKeysOf).
func readTouchedKeys(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource, typ string) ([]*Resource, error) {
	appKey := false
	seen := map[string]bool{}
	var ids []string
	var out []*Resource
	for addr, t := range touched {
		switch {
		case isAppKey(addr):
			appKey = true
		case isLeakedKeyAddr(addr):
			if typ == TypeKey {
				r, err := readLeakedKey(ctx, rt, addr)
				if err != nil {
					return nil, err
				}
				if r != nil {
					out = append(out, r)
				}
			}
		case t == TypeKey || t == TypeAlias:
			if sb := sandboxOfAddress(addr); sb != "" && !seen[sb] {
				seen[sb] = true
				ids = append(ids, sb)
			}
		}
	}
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
