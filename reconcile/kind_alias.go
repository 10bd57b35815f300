package reconcile

import (
	"context"
)

const TypeAlias = "aws_kms_alias"

// aliasKind: alias/{prefix}-github-token-{sandbox} naming each sandbox's key.
type aliasKind struct{}

func (aliasKind) Type() string { return TypeAlias }

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
		out = append(out, &Resource{
			Address: addrAlias(sk.Sandbox), Type: TypeAlias, Sandbox: sk.Sandbox, ID: sk.Alias,
			Attrs:       map[string]string{"name": sk.Alias, "target_key_id": sk.Key.KeyID},
			Fingerprint: "target=" + sk.Key.KeyID,
		})
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
	switch {
	case desired == nil && live == nil:
		return NoOp, ""
	case desired == nil:
		return Delete, "orphaned: sandbox " + live.Sandbox + " is not in km.yaml"
	case live == nil:
		return Create, "alias missing"
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
