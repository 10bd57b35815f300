package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/state"
)

// A sandbox key is created (CreateKey) before its alias (CreateAlias). An apply
// killed in between, or a CreateKey whose answer was lost, leaves an enabled key
// tagged km:sandbox that no alias names: invisible to a plan that reads keys
// through their aliases, and billed every month. scanUnaliasedKeys finds them
// (ListKeys, then ListResourceTags for the keys no alias explained — none in
// steady state besides keys awaiting deletion and keys km does not own):
// a declared sandbox without a key adopts one (the alias is then created to
// point at it); every other one is planned for deletion as
// sandbox["ID"].aws_kms_key.unaliased["KEY-ID"].

// The App key (aws_kms_key.github_app) is created before its alias too; an
// App key no alias names is never adopted (a new one is cheap and the private
// key is written again with it) and is planned for deletion as
// aws_kms_key.github_app_unaliased["KEY-ID"].

// leakedKey is the Extra of an unaliased key planned for deletion.
type leakedKey struct {
	Key      state.Key
	Declared bool // its sandbox is declared (and has another key)
	App      bool // an App key, not a sandbox's
}

const appLeakedKeyPart = "aws_kms_key.github_app_unaliased["

func addrLeakedAppKey(keyID string) string { return appLeakedKeyPart + `"` + keyID + `"]` }

func addrLeakedKey(sandbox, keyID string) string {
	return SandboxAddr(sandbox) + leakedKeyPart + `"` + keyID + `"]`
}

const leakedKeyPart = ".aws_kms_key.unaliased["

func isLeakedKeyAddr(addr string) bool {
	return strings.Contains(addr, leakedKeyPart) || strings.HasPrefix(addr, appLeakedKeyPart)
}

// scanUnaliasedKeys adopts or lists km's sandbox keys that no alias names.
// keys holds what the alias reads found (declared sandboxes and orphan
// aliases); declared adoptions are written into it.
func scanUnaliasedKeys(ctx context.Context, rt *Runtime, keys map[string]*sandboxKey) ([]*Resource, error) {
	known := map[string]bool{}
	for _, sk := range keys {
		if sk.Key.KeyID != "" {
			known[sk.Key.KeyID] = true
		}
	}
	app, err := readAppKey(ctx, rt)
	if err != nil {
		return nil, err
	}
	if app.Found {
		known[app.Key.KeyID] = true
	}
	all, err := rt.AWS.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing KMS keys to find sandbox keys no alias names (left by an interrupted apply): %w", err)
	}
	var cands []state.Key
	candSandbox := map[string]string{}
	for _, kid := range all {
		if known[kid] {
			continue
		}
		tags, err := rt.AWS.ListResourceTags(ctx, kid)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading the tags of KMS key %s: %w", kid, err)
		}
		id := tags[names.TagSandbox]
		isApp := id == "" && tags[tagPurpose] == "github-app"
		if (id == "" && !isApp) || tags[names.TagPrefix] != rt.Names.Prefix {
			continue
		}
		k, err := rt.AWS.DescribeKey(ctx, kid)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading KMS key %s (tagged for sandbox %s): %w", kid, id, err)
		}
		if k.State == "PendingDeletion" || k.State == "PendingReplicaDeletion" {
			continue // already on its way out
		}
		cands = append(cands, k)
		candSandbox[k.KeyID] = id
	}
	// Adopt the oldest enabled key (then the oldest) per declared sandbox.
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if (a.State == "Enabled") != (b.State == "Enabled") {
			return a.State == "Enabled"
		}
		if !a.CreationDate.Equal(b.CreationDate) {
			return a.CreationDate.Before(b.CreationDate)
		}
		return a.KeyID < b.KeyID
	})
	declared := map[string]bool{}
	for _, id := range rt.sandboxIDs {
		declared[id] = true
	}
	var leaked []*Resource
	for _, k := range cands {
		id := candSandbox[k.KeyID]
		if id == "" {
			leaked = append(leaked, &Resource{
				Address: addrLeakedAppKey(k.KeyID), Type: TypeKey, ID: k.KeyID,
				Attrs:       map[string]string{"key_id": k.KeyID, "key_state": k.State, "description": k.Description},
				Fingerprint: "state=" + k.State,
				Extra:       leakedKey{Key: k, App: true},
			})
			continue
		}
		if sk := keys[id]; declared[id] && sk != nil && !sk.Found {
			pol, err := rt.AWS.GetKeyPolicy(ctx, k.KeyID)
			if err != nil {
				return nil, fmt.Errorf("reading the key policy of %s (tagged for sandbox %s): %w", k.KeyID, id, err)
			}
			sk.Key, sk.Policy, sk.Found, sk.AliasMissing = k, pol, true, true
			continue
		}
		leaked = append(leaked, leakedResource(id, k, declared[id]))
	}
	sort.Slice(leaked, func(i, j int) bool { return leaked[i].Address < leaked[j].Address })
	return leaked, nil
}

// readLeakedKey re-reads one unaliased key a saved plan deletes, as
// scanUnaliasedKeys found it (nil when it is gone or already pending
// deletion).
func readLeakedKey(ctx context.Context, rt *Runtime, addr string) (*Resource, error) {
	_, rest, _ := strings.Cut(addr, leakedKeyPart+`"`)
	kid, _, _ := strings.Cut(rest, `"]`)
	sb := sandboxOfAddress(addr)
	k, err := rt.AWS.DescribeKey(ctx, kid)
	switch {
	case isNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading KMS key %s (tagged for sandbox %s): %w", kid, sb, err)
	case k.State == "PendingDeletion" || k.State == "PendingReplicaDeletion":
		return nil, nil
	}
	return leakedResource(sb, k, slices.Contains(rt.sandboxIDs, sb)), nil
}

func leakedResource(sandbox string, k state.Key, declared bool) *Resource {
	return &Resource{
		Address: addrLeakedKey(sandbox, k.KeyID), Type: TypeKey, Sandbox: sandbox, ID: k.KeyID,
		Attrs: map[string]string{
			"key_id": k.KeyID, "key_state": k.State, "description": k.Description,
		},
		Fingerprint: "state=" + k.State,
		Extra:       leakedKey{Key: k, Declared: declared},
	}
}

// diffLeaked is the plan of an unaliased key nothing adopts.
func diffLeaked(l leakedKey, sandbox string) (Action, string) {
	if l.App {
		return Delete, fmt.Sprintf("leaked: a GitHub App key that no alias names (left by an interrupted apply); "+
			"the key is scheduled for deletion in %d days", keyDeletionDays)
	}
	if l.Declared {
		return Delete, fmt.Sprintf("leaked: tagged for sandbox %s, which has another key, and no alias names it "+
			"(left by an interrupted apply); the key is scheduled for deletion in %d days", sandbox, keyDeletionDays)
	}
	return Delete, fmt.Sprintf("leaked: tagged for sandbox %s, which is not in km.yaml, and no alias names it "+
		"(left by an interrupted apply); the key is scheduled for deletion in %d days", sandbox, keyDeletionDays)
}

// findCreatedKey looks for an enabled key carrying the tags a CreateKey sent
// (a sandbox's, or the App key's) that the plan did not know (a CreateKey
// whose answer was lost) and returns the newest one's id, or "".
func findCreatedKey(ctx context.Context, rt *Runtime, want map[string]string) (string, error) {
	known := map[string]bool{}
	if v, err := rt.memo.get(ctx, "keys", func(context.Context) (any, error) { return sandboxKeys{}, nil }); err == nil {
		sk := v.(sandboxKeys)
		for _, k := range sk.keys {
			known[k.Key.KeyID] = true
		}
		for _, l := range sk.leaked {
			known[l.ID] = true
		}
	}
	all, err := rt.AWS.ListKeys(ctx)
	if err != nil {
		return "", err
	}
	var best state.Key
	for _, kid := range all {
		if known[kid] {
			continue
		}
		tags, err := rt.AWS.ListResourceTags(ctx, kid)
		if err != nil || !hasTags(tags, want) || tags[names.TagSandbox] != want[names.TagSandbox] {
			continue
		}
		k, err := rt.AWS.DescribeKey(ctx, kid)
		if err != nil || k.State != "Enabled" {
			continue
		}
		if best.KeyID == "" || k.CreationDate.After(best.CreationDate) {
			best = k
		}
	}
	return best.KeyID, nil
}

// hasTags reports whether tags carries every tag of want with its value.
func hasTags(tags, want map[string]string) bool {
	for k, v := range want {
		if tags[k] != v {
			return false
		}
	}
	return true
}
