package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
