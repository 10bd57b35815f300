package reconcile

import (
	"context"
)

const TypeAlias = "aws_kms_alias"

// aliasKind: alias/{prefix}-github-token-{sandbox} naming each sandbox's key.
type aliasKind struct{}

func (aliasKind) Type() string { return TypeAlias }

// AliasAPI is the KMS slice the aliases use; they are read with the keys
// (KeyAPI).
type AliasAPI interface {
	CreateAlias(ctx context.Context, alias, keyID string) error
	UpdateAlias(ctx context.Context, alias, keyID string) error
	DeleteAlias(ctx context.Context, alias string) error
}

func (aliasKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	keys, err := readSandboxKeys(ctx, rt, rt.sandboxIDs)
	if err != nil {
		return nil, err
	}
	var out []*Resource
	for _, sk := range keys {
		if sk.AliasMissing || (!sk.Found && sk.Key.KeyID == "") {
			continue
		}
		out = append(out, liveAlias(sk))
	}
	_, app, err := liveAppKey(ctx, rt)
	if err != nil {
		return nil, err
	}
	if app != nil {
		out = append(out, app)
	}
	return out, nil
}

func (aliasKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	if act, why, done := diffPresence(desired, live, "alias"); done {
		return act, why
	}
	return diffAttrs(desired, live)
}

func (aliasKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	switch c.Action {
	case Delete:
		if err := rt.AWS.DeleteAlias(ctx, c.ID); err != nil && !isNotFound(err) {
			return nil, err
		}
		return nil, nil
	case Create:
		err := rt.AWS.CreateAlias(ctx, c.ID, c.desired.Attrs["target_key_id"])
		if err == nil || !isExists(err) {
			return nil, err
		}
	}
	return nil, pointAlias(ctx, rt, c.ID, c.desired.Attrs["target_key_id"])
}

// pointAlias makes alias name keyID: UpdateAlias, or, where the endpoint
// lacks it (kumo), DeleteAlias and CreateAlias.
func pointAlias(ctx context.Context, rt *Runtime, alias, keyID string) error {
	err := rt.AWS.UpdateAlias(ctx, alias, keyID)
	if !isUnsupported(err) {
		return err
	}
	if err := rt.AWS.DeleteAlias(ctx, alias); err != nil && !isNotFound(err) {
		return err
	}
	return rt.AWS.CreateAlias(ctx, alias, keyID)
}

func addrAlias(id string) string { return SandboxAddr(id) + ".aws_kms_alias.token" }

// DependsOn: an alias names a key.
func (aliasKind) DependsOn() []string { return []string{TypeKey} }

// Desired declares the App key's alias and one alias per sandbox.
func (aliasKind) Desired(d *decl) ([]*Resource, error) {
	out := []*Resource{desiredAppAlias(d.rt)}
	for _, sb := range d.sandboxes {
		out = append(out, &Resource{
			Address: addrAlias(sb.ID), Type: TypeAlias, Sandbox: sb.ID, ID: d.rt.Names.KeyAlias(sb.ID),
			Attrs:     map[string]string{"name": d.rt.Names.KeyAlias(sb.ID), "target_key_id": ref(addrKey(sb.ID), "key_id")},
			DependsOn: []string{addrKey(sb.ID)},
		})
	}
	return out, nil
}

// ReadTouched reads the touched keys and aliases of the App key and of the
// sandboxes they belong to only (readTouchedKeys).
func (aliasKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedKeys(ctx, rt, touched, desiredBy, TypeAlias)
}

// liveAlias is a sandbox's live alias naming sk's key.
func liveAlias(sk *sandboxKey) *Resource {
	return &Resource{
		Address: addrAlias(sk.Sandbox), Type: TypeAlias, Sandbox: sk.Sandbox, ID: sk.Alias,
		Attrs:       map[string]string{"name": sk.Alias, "target_key_id": sk.Key.KeyID},
		Fingerprint: "target=" + sk.Key.KeyID,
	}
}
