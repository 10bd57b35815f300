package reconcile

import (
	"context"
	"testing"

	"github.com/klankermaker/km/state"
)

// fakeRoles implements RoleAPI over a map of trust policies.
type fakeRoles struct {
	AWS   // nil: a call outside RoleAPI panics
	trust map[string]string
	calls calls
}

func (f *fakeRoles) GetRole(_ context.Context, name string) (state.Role, error) {
	f.calls.add("GetRole", name)
	if _, ok := f.trust[name]; !ok {
		return state.Role{}, state.ErrNotFound
	}
	return state.Role{Name: name, ARN: "arn:role/" + name, AssumeRolePolicy: f.trust[name]}, nil
}

func (f *fakeRoles) CreateRole(_ context.Context, name, assume, _ string, _ map[string]string) (state.Role, error) {
	f.calls.add("CreateRole", name)
	if _, ok := f.trust[name]; ok {
		return state.Role{}, state.ErrAlreadyExists
	}
	f.trust[name] = assume
	return state.Role{Name: name, ARN: "arn:role/" + name}, nil
}

func (f *fakeRoles) UpdateAssumeRolePolicy(_ context.Context, name, policy string) error {
	f.calls.add("UpdateAssumeRolePolicy", name)
	f.trust[name] = policy
	return nil
}

func (f *fakeRoles) PutRolePolicy(_ context.Context, role, policyName, _ string) error {
	f.calls.add("PutRolePolicy", role, policyName)
	return nil
}

func TestRoleDiff(t *testing.T) {
	want := res(TypeRole, addrRefresherRole, "r", "name", "r", "assume_role_policy", `{"a":1}`, "inline_policy", `{"b":1}`, "arn", Unknown)
	checkDiff(t, roleKind{}, []diffCase{
		{"missing", want, nil, Create, "role missing"},
		{"same JSON, other layout", want, res(TypeRole, addrRefresherRole, "r", "name", "r", "assume_role_policy", `{ "a": 1 }`, "inline_policy", `{"b":1}`, "arn", "arn:role/r"), NoOp, ""},
		{"inline policy changed", want, res(TypeRole, addrRefresherRole, "r", "name", "r", "assume_role_policy", `{"a":1}`, "inline_policy", `{"b":2}`), Update, "inline_policy differs"},
		{"undeclared: never deleted", nil, want, NoOp, ""},
	})
}

func TestRoleApply(t *testing.T) {
	ctx := context.Background()
	d := res(TypeRole, addrRefresherRole, "r", "name", "r", "assume_role_policy", `{"a":1}`, "inline_policy", `{"b":1}`)
	for _, tc := range []struct {
		name   string
		trust  map[string]string
		act    Action
		before *Resource
		want   string
	}{
		{"create", map[string]string{}, Create, nil, "CreateRole r; PutRolePolicy r km"},
		{"create finds it exists", map[string]string{"r": "{}"}, Create, nil, "CreateRole r; UpdateAssumeRolePolicy r; PutRolePolicy r km; GetRole r"},
		{"inline policy only", map[string]string{"r": `{"a":1}`}, Update, res(TypeRole, addrRefresherRole, "r", "assume_role_policy", `{"a":1}`, "inline_policy", `{"b":2}`), "PutRolePolicy r km; GetRole r"},
		{"trust only", map[string]string{"r": "{}"}, Update, res(TypeRole, addrRefresherRole, "r", "assume_role_policy", `{}`, "inline_policy", `{"b":1}`), "UpdateAssumeRolePolicy r; GetRole r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRoles{trust: tc.trust}
			out, err := roleKind{}.Apply(ctx, fakeRuntime(f), changeFor(d, tc.before, tc.act))
			if err != nil || out["arn"] != "arn:role/r" || f.calls.String() != tc.want {
				t.Fatalf("Apply: %v %v, calls %q, want %q", out, err, f.calls, tc.want)
			}
			if f.trust["r"] != `{"a":1}` {
				t.Errorf("trust policy after Apply: %s", f.trust["r"])
			}
		})
	}
}
