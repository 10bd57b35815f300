package reconcile

import (
	"context"
	"fmt"
	"github.com/klankermaker/km/state"
)

const TypeRole = "aws_iam_role"

// inlinePolicyName is the inline policy km manages on its roles.
const inlinePolicyName = "km"

// roleKind: the refresher's and the scheduler's IAM roles.
type roleKind struct{}

func (roleKind) Type() string { return TypeRole }

// RoleAPI is the IAM slice the roles use.
type RoleAPI interface {
	GetRole(ctx context.Context, name string) (state.Role, error)
	CreateRole(ctx context.Context, name, assumePolicy, description string, tags map[string]string) (state.Role, error)
	UpdateAssumeRolePolicy(ctx context.Context, name, policy string) error
	PutRolePolicy(ctx context.Context, role, policyName, doc string) error
}

func (roleKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	var out []*Resource
	for _, d := range desired {
		role, err := rt.AWS.GetRole(ctx, d.ID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading IAM role %s: %w", d.ID, err)
		}
		r := &Resource{
			Address: d.Address, Type: TypeRole, ID: role.Name,
			Attrs: map[string]string{
				"name": role.Name, "arn": role.ARN,
				"assume_role_policy": NormalizeJSONOr(role.AssumeRolePolicy),
				"inline_policy":      NormalizeJSONOr(role.InlinePolicies[inlinePolicyName]),
			},
		}
		r.Fingerprint = "sha256=" + shortHash(r.Attrs["assume_role_policy"]+r.Attrs["inline_policy"])
		out = append(out, r)
	}
	return out, nil
}

func (roleKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	switch {
	case desired == nil:
		return NoOp, "" // km never deletes its shared roles on its own
	case live == nil:
		return Create, "role missing"
	}
	return diffAttrs(desired, live)
}

func (roleKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	d := c.desired
	var arn string
	if c.Action == Create {
		role, err := rt.AWS.CreateRole(ctx, d.ID, d.Attrs["assume_role_policy"], "Managed by km", rt.tags(""))
		switch {
		case err == nil:
			arn = role.ARN
		case isExists(err):
			if err := rt.AWS.UpdateAssumeRolePolicy(ctx, d.ID, d.Attrs["assume_role_policy"]); err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
	} else if c.Before["assume_role_policy"] != c.After["assume_role_policy"] {
		if err := rt.AWS.UpdateAssumeRolePolicy(ctx, d.ID, d.Attrs["assume_role_policy"]); err != nil {
			return nil, err
		}
	}
	if c.Action == Create || !EqualAttr(c.Before["inline_policy"], c.After["inline_policy"]) {
		if err := rt.AWS.PutRolePolicy(ctx, d.ID, inlinePolicyName, d.Attrs["inline_policy"]); err != nil {
			return nil, err
		}
	}
	if arn == "" {
		role, err := rt.AWS.GetRole(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		arn = role.ARN
	}
	return map[string]string{"arn": arn}, nil
}

// Addresses of the roles.
const (
	addrRefresherRole = "aws_iam_role.refresher"
	addrSchedulerRole = "aws_iam_role.scheduler"
)

// DependsOn: roles depend on nothing km manages.
func (roleKind) DependsOn() []string { return nil }

// Desired declares the refresher's and the scheduler's roles.
func (roleKind) Desired(d *decl) ([]*Resource, error) {
	n, pe := d.rt.Names, d.pe
	return []*Resource{{
		Address: addrRefresherRole, Type: TypeRole, ID: n.RefresherRole(),
		Attrs: map[string]string{
			"name": n.RefresherRole(), "assume_role_policy": refresherTrust(),
			"inline_policy": refresherPolicy(pe), "arn": Unknown,
		},
	}, {
		Address: addrSchedulerRole, Type: TypeRole, ID: n.SchedulerRole(),
		Attrs: map[string]string{
			"name": n.SchedulerRole(), "assume_role_policy": schedulerTrust(pe),
			"inline_policy": schedulerPolicy(pe), "arn": Unknown,
		},
	}}, nil
}

// ReadTouched reads the touched roles (readTouchedDeclared).
func (k roleKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}
