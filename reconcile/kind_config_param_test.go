package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/klankermaker/km/state"
)

// fakeParams implements ConfigParamAPI over a map of parameters by name.
type fakeParams struct {
	AWS    // nil: a call outside ConfigParamAPI panics
	params map[string]state.PutParameterInput
	calls  calls
}

func (f *fakeParams) DescribeParameters(_ context.Context, path string) ([]state.Parameter, error) {
	f.calls.add("DescribeParameters", path)
	var out []state.Parameter
	for n, p := range f.params {
		if strings.HasPrefix(n, path+"/") {
			out = append(out, state.Parameter{Name: n, Type: p.Type, Description: p.Description, Version: 1})
		}
	}
	return out, nil
}

func (f *fakeParams) GetParameters(_ context.Context, names []string, _ bool) (map[string]state.Parameter, error) {
	f.calls.add("GetParameters", len(names))
	out := map[string]state.Parameter{}
	for _, n := range names {
		if p, ok := f.params[n]; ok {
			out[n] = state.Parameter{Name: n, Type: p.Type, Value: p.Value}
		}
	}
	return out, nil
}

func (f *fakeParams) PutParameter(_ context.Context, in state.PutParameterInput) (int64, error) {
	f.calls.add("PutParameter", in.Name, in.Type, "overwrite="+map[bool]string{true: "yes", false: "no"}[in.Overwrite])
	if _, ok := f.params[in.Name]; ok && !in.Overwrite {
		return 0, state.ErrAlreadyExists
	}
	f.params[in.Name] = in
	return 1, nil
}

func (f *fakeParams) DeleteParameter(_ context.Context, name string) error {
	f.calls.add("DeleteParameter", name)
	if _, ok := f.params[name]; !ok {
		return state.ErrNotFound
	}
	delete(f.params, name)
	return nil
}

func TestConfigParamDiff(t *testing.T) {
	id := stringParam(addrAppClientID, "/kmt/config/github/app-client-id", "Iv1.a")
	inst := stringParam(addrInstallation("acme"), "/kmt/config/github/installations/acme", "7")
	pk := res(TypeConfigParam, addrPrivateKey, "/kmt/config/github/private-key", "name", "/kmt/config/github/private-key",
		"type", "SecureString", "value", sensitiveMarker("fp1"), "description", privateKeyDescription("fp1"), "key_id", "alias/kmt-github-app")
	livePK := func(fp, keyID string) *Resource {
		return res(TypeConfigParam, addrPrivateKey, pk.ID, "name", pk.ID, "type", "SecureString",
			"value", sensitiveMarker(fp), "description", privateKeyDescription(fp), "key_id", keyID)
	}
	checkDiff(t, configParamKind{}, []diffCase{
		{"missing", id, nil, Create, "parameter missing"},
		{"same", id, stringParam(addrAppClientID, id.ID, "Iv1.a"), NoOp, ""},
		{"value changed", id, stringParam(addrAppClientID, id.ID, "Iv1.b"), Update, "value differs"},
		{"type changed", pk, stringParam(addrPrivateKey, pk.ID, "x"), Replace, "type String cannot become SecureString"},
		{"installation left km.yaml", nil, inst, Delete, "installation no longer in km.yaml"},
		{"App credentials omitted: kept", nil, id, NoOp, ""},
		{"private key same, key not reported", pk, livePK("fp1", ""), NoOp, ""},
		{"private key rotated", pk, livePK("fp2", ""), Update, "differs from the one in SSM (fingerprint)"},
		{"private key under another key", pk, livePK("fp1", "alias/aws/ssm"), Update, "apply re-encrypts it"},
	})
}

func TestConfigParamApply(t *testing.T) {
	ctx := context.Background()
	const pem = "-----BEGIN RSA PRIVATE KEY-----\nsecret\n-----END RSA PRIVATE KEY-----\n"
	id := stringParam(addrAppClientID, "/kmt/config/github/app-client-id", "Iv1.a")
	pk := res(TypeConfigParam, addrPrivateKey, "/kmt/config/github/private-key", "type", "SecureString",
		"value", sensitiveMarker("fp1"), "description", privateKeyDescription("fp1"), "key_id", "alias/kmt-github-app")
	pk.Extra = []byte(pem)
	for _, tc := range []struct {
		name      string
		d         *Resource
		existing  string // type of a parameter already there, "" none
		act       Action
		want      string
		wantValue string
	}{
		{"create", id, "", Create, "PutParameter /kmt/config/github/app-client-id String overwrite=no", "Iv1.a"},
		{"create finds it exists", id, "String", Create, "PutParameter /kmt/config/github/app-client-id String overwrite=no; PutParameter /kmt/config/github/app-client-id String overwrite=yes", "Iv1.a"},
		{"update", id, "String", Update, "PutParameter /kmt/config/github/app-client-id String overwrite=yes", "Iv1.a"},
		{"replace", pk, "String", Replace, "DeleteParameter /kmt/config/github/private-key; PutParameter /kmt/config/github/private-key SecureString overwrite=no", pem},
		{"delete", id, "String", Delete, "DeleteParameter /kmt/config/github/app-client-id", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeParams{params: map[string]state.PutParameterInput{}}
			if tc.existing != "" {
				f.params[tc.d.ID] = state.PutParameterInput{Name: tc.d.ID, Type: tc.existing, Value: "old"}
			}
			desired := tc.d
			if tc.act == Delete {
				desired = nil
			}
			if _, err := (configParamKind{}).Apply(ctx, fakeRuntime(f), changeFor(desired, tc.d, tc.act)); err != nil || f.calls.String() != tc.want {
				t.Fatalf("Apply: %v, calls %q want %q", err, f.calls, tc.want)
			}
			got, ok := f.params[tc.d.ID]
			if ok != (tc.wantValue != "") || got.Value != tc.wantValue {
				t.Fatalf("parameter after Apply: %+v (present %v), want value %q", got, ok, tc.wantValue)
			}
			if tc.d == pk && got.KeyID != "alias/kmt-github-app" {
				t.Errorf("private key encrypted with %q, want the App key", got.KeyID)
			}
		})
	}
}
