package reconcile

import (
	"context"
	"fmt"
)

// The App private key's own KMS key, alias/{prefix}-github-app. It is a key
// and an alias like a sandbox's, so the key and alias kinds reconcile it; this
// file holds what differs: its addresses, its desired resources, its read and
// its tags. Only the refresher role may decrypt with it (appKeyPolicy).

const (
	addrAppKey   = "aws_kms_key.github_app"
	addrAppAlias = "aws_kms_alias.github_app"
	// tagPurpose tells km's keys apart: github-app or github-token.
	tagPurpose = "km:purpose"
)

// appKeyAlias is the App key's alias.
func appKeyAlias(rt *Runtime) string { return "alias/" + rt.Names.Prefix + "-github-app" }

// isAppKey reports whether a key or alias address is the App key's.
func isAppKey(addr string) bool { return addr == addrAppKey || addr == addrAppAlias }

// desiredAppKey declares the App key.
func desiredAppKey(rt *Runtime, pe policyEnv) *Resource {
	return &Resource{
		Address: addrAppKey, Type: TypeKey,
		Attrs: map[string]string{
			"description": "km GitHub App private key (" + rt.Names.PrivateKeyParam() + ")",
			"policy":      appKeyPolicy(pe, ref(addrRefresherRole, "arn")),
			"key_state":   "Enabled",
			"key_id":      Unknown,
		},
		DependsOn: []string{addrRefresherRole},
	}
}

// desiredAppAlias declares the App key's alias.
func desiredAppAlias(rt *Runtime) *Resource {
	alias := appKeyAlias(rt)
	return &Resource{
		Address: addrAppAlias, Type: TypeAlias, ID: alias,
		Attrs:     map[string]string{"name": alias, "target_key_id": ref(addrAppKey, "key_id")},
		DependsOn: []string{addrAppKey},
	}
}

// readAppKey reads the App key through its alias, with its policy (two
// calls, shared by the key and alias kinds).
func readAppKey(ctx context.Context, rt *Runtime) (*sandboxKey, error) {
	v, err := rt.memo.get(ctx, "appkey", func(ctx context.Context) (any, error) {
		sk := &sandboxKey{Alias: appKeyAlias(rt)}
		k, err := rt.AWS.DescribeKey(ctx, sk.Alias)
		switch {
		case isNotFound(err):
			return sk, nil
		case err != nil:
			return nil, fmt.Errorf("reading KMS key %s: %w", sk.Alias, err)
		}
		sk.Key, sk.Found = k, true
		if sk.Policy, err = rt.AWS.GetKeyPolicy(ctx, k.KeyID); err != nil {
			return nil, fmt.Errorf("reading the key policy of %s (%s): %w", sk.Alias, k.KeyID, err)
		}
		return sk, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*sandboxKey), nil
}

// liveAppKey returns the live App key and alias resources (none when absent).
func liveAppKey(ctx context.Context, rt *Runtime) (key, alias *Resource, err error) {
	sk, err := readAppKey(ctx, rt)
	if err != nil || !sk.Found {
		return nil, nil, err
	}
	key = liveKey(sk)
	key.Address = addrAppKey
	alias = &Resource{
		Address: addrAppAlias, Type: TypeAlias, ID: sk.Alias,
		Attrs:       map[string]string{"name": sk.Alias, "target_key_id": sk.Key.KeyID},
		Fingerprint: "target=" + sk.Key.KeyID,
	}
	return key, alias, nil
}

// keyTags are the tags of a key km creates: the sandbox's, or the App key's.
func keyTags(rt *Runtime, c *Change) map[string]string {
	t := rt.tags(c.Sandbox)
	if c.Address == addrAppKey {
		t[tagPurpose] = "github-app"
	}
	return t
}

// keyAliasOf is the alias naming the key of change c.
func keyAliasOf(rt *Runtime, c *Change) string {
	if c.Address == addrAppKey {
		return appKeyAlias(rt)
	}
	return rt.Names.KeyAlias(c.Sandbox)
}

// addrOf is r's address, or "" for nil.
func addrOf(r *Resource) string {
	if r == nil {
		return ""
	}
	return r.Address
}
