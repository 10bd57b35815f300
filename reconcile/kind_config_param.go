package reconcile

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/klankermaker/km/state"
)

const TypeConfigParam = "aws_ssm_parameter"

// configParamKind: the App configuration parameters under /{prefix}/config/github.
type configParamKind struct{}

func (configParamKind) Type() string { return TypeConfigParam }

// ConfigParamAPI is the SSM slice the App configuration parameters use.
type ConfigParamAPI interface {
	DescribeParameters(ctx context.Context, path string) ([]state.Parameter, error)
	GetParameters(ctx context.Context, names []string, decrypt bool) (map[string]state.Parameter, error)
	PutParameter(ctx context.Context, in state.PutParameterInput) (int64, error)
	DeleteParameter(ctx context.Context, name string) error
}

func (configParamKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	n := rt.Names
	params, err := rt.AWS.DescribeParameters(ctx, n.ConfigPath())
	if err != nil {
		return nil, fmt.Errorf("reading the App configuration under %s: %w", n.ConfigPath(), err)
	}
	var stringNames []string
	for _, p := range params {
		if p.Type == "String" {
			stringNames = append(stringNames, p.Name)
		}
	}
	values := map[string]state.Parameter{}
	if len(stringNames) > 0 {
		if values, err = rt.AWS.GetParameters(ctx, stringNames, false); err != nil {
			return nil, fmt.Errorf("reading the App configuration values: %w", err)
		}
	}
	var out []*Resource
	for _, p := range params {
		addr := configAddress(rt, p.Name)
		if addr == "" {
			continue // not one of km's names: never touched
		}
		r := &Resource{
			Address: addr, Type: TypeConfigParam, ID: p.Name,
			Attrs:       map[string]string{"name": p.Name, "type": p.Type},
			Fingerprint: "version=" + strconv.FormatInt(p.Version, 10),
		}
		if p.Type == "SecureString" {
			r.Sensitive = map[string]bool{"value": true}
			r.Attrs["description"] = p.Description
			r.Attrs["key_id"] = p.KeyID // AWS reports it; kumo does not (empty)
			if fp, ok := strings.CutPrefix(p.Description, keyDescPrefix); ok {
				r.Attrs["value"] = sensitiveMarker(fp)
			} else {
				r.Attrs["value"] = "sensitive:unknown"
			}
		} else {
			r.Attrs["value"] = values[p.Name].Value
		}
		out = append(out, r)
	}
	return out, nil
}

// configAddress maps a parameter name to its address, or "" when km does not own it.
func configAddress(rt *Runtime, name string) string {
	n := rt.Names
	switch name {
	case n.AppClientIDParam():
		return addrAppClientID
	case n.PrivateKeyParam():
		return addrPrivateKey
	case n.LegacyInstallationParam():
		return addrLegacyInst
	}
	if acct, ok := strings.CutPrefix(name, n.InstallationsPath()+"/"); ok && acct != "" && !strings.Contains(acct, "/") {
		return addrInstallation(acct)
	}
	return ""
}

func (configParamKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	switch {
	case desired == nil && live == nil:
		return NoOp, ""
	case desired == nil:
		// Only installations that left km.yaml are removed; the App credentials
		// stay when km.yaml omits them ("keep what SSM holds").
		if strings.HasPrefix(live.Address, "aws_ssm_parameter.installation[") {
			return Delete, "installation no longer in km.yaml"
		}
		return NoOp, ""
	case live == nil:
		return Create, "parameter missing"
	}
	if live.Attrs["type"] != desired.Attrs["type"] {
		return Replace, "type " + live.Attrs["type"] + " cannot become " + desired.Attrs["type"] + " in place"
	}
	if desired.Address == addrPrivateKey {
		return diffPrivateKey(rt, desired, live)
	}
	return diffAttrs(desired, live)
}

// diffPrivateKey compares the App private key through its fingerprint (never
// its value) and checks it is encrypted with the App key: by the key SSM
// reports, and, where the endpoint reports none (kumo), by whether the App
// key is about to be created.
func diffPrivateKey(rt *Runtime, desired, live *Resource) (Action, string) {
	want := desired.Attrs["key_id"]
	got := live.Attrs["key_id"]
	cmp := *desired
	cmp.Attrs = map[string]string{}
	for k, v := range desired.Attrs {
		if k != "key_id" {
			cmp.Attrs[k] = v
		}
	}
	if a, _ := diffAttrs(&cmp, live); a != NoOp {
		return a, "the App private key in km.yaml differs from the one in SSM (fingerprint)"
	}
	switch {
	case got != "" && want != "" && !keyMatches(got, want):
		return Update, "encrypted with " + got + ", not the App key " + want + ": apply re-encrypts it"
	case rt.planned[addrAppKey] == Create || rt.planned[addrAppKey] == Replace:
		return Update, "the App key " + want + " is new: apply re-encrypts the private key with it"
	}
	return NoOp, ""
}

func (configParamKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	switch c.Action {
	case Delete:
		if err := rt.AWS.DeleteParameter(ctx, c.ID); err != nil && !isNotFound(err) {
			return nil, err
		}
		return nil, nil
	case Replace:
		if err := rt.AWS.DeleteParameter(ctx, c.ID); err != nil && !isNotFound(err) {
			return nil, err
		}
	}
	d := c.desired
	in := state.PutParameterInput{
		Name: d.ID, Type: d.Attrs["type"], Value: d.Attrs["value"],
		Description: d.Attrs["description"], Overwrite: c.Action == Update, Tags: rt.tags(""),
	}
	if d.Type == TypeConfigParam && d.Attrs["type"] == "SecureString" {
		in.KeyID = d.Attrs["key_id"] // the App key; never the account's aws/ssm
	}
	if pem, ok := d.Extra.([]byte); ok {
		in.Value = string(pem)
	}
	if _, err := rt.AWS.PutParameter(ctx, in); err != nil {
		if !isExists(err) {
			return nil, err
		}
		in.Overwrite = true // created meanwhile: converge
		in.Tags = nil
		if _, err := rt.AWS.PutParameter(ctx, in); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Addresses of the App configuration parameters.
const (
	addrAppClientID = "aws_ssm_parameter.app_client_id"
	addrPrivateKey  = "aws_ssm_parameter.private_key"
	addrLegacyInst  = "aws_ssm_parameter.installation_id"
)

func addrInstallation(account string) string {
	return `aws_ssm_parameter.installation["` + strings.ToLower(account) + `"]`
}

// DependsOn: the private key parameter is encrypted with the App key's alias.
func (configParamKind) DependsOn() []string { return []string{TypeAlias} }

// Desired declares the App client id, private key and installation parameters.
func (configParamKind) Desired(d *decl) ([]*Resource, error) {
	cfg, rt, n := d.cfg, d.rt, d.rt.Names
	var out []*Resource
	if id := cfg.GitHub.AppClientID; id != "" {
		out = append(out, stringParam(addrAppClientID, n.AppClientIDParam(), id))
	}
	if pem := cfg.GitHub.PrivateKeyPEM; pem != nil {
		fp := d.keyFingerprint
		out = append(out, &Resource{
			Address: addrPrivateKey, Type: TypeConfigParam, ID: n.PrivateKeyParam(),
			Attrs: map[string]string{
				"name": n.PrivateKeyParam(), "type": "SecureString",
				"value":       sensitiveMarker(fp),
				"description": privateKeyDescription(fp),
				"key_id":      appKeyAlias(rt),
			},
			Sensitive: map[string]bool{"value": true},
			Extra:     pem,
			DependsOn: []string{addrAppAlias},
		})
	}
	for _, inst := range cfg.GitHub.Installations {
		out = append(out, stringParam(addrInstallation(inst.Account), n.InstallationParam(inst.Account), strconv.FormatInt(inst.ID, 10)))
	}
	if def, ok := cfg.InstallationFor(cfg.GitHub.DefaultInstallation); ok && len(cfg.GitHub.Installations) > 0 {
		out = append(out, stringParam(addrLegacyInst, n.LegacyInstallationParam(), strconv.FormatInt(def.ID, 10)))
	}
	return out, nil
}

func stringParam(addr, name, value string) *Resource {
	return &Resource{
		Address: addr, Type: TypeConfigParam, ID: name,
		Attrs: map[string]string{"name": name, "type": "String", "value": value},
	}
}

const keyDescPrefix = "km App private key "

func privateKeyDescription(fp string) string { return keyDescPrefix + fp }

func sensitiveMarker(fp string) string { return "sensitive:" + fp }

// ReadTouched reads the touched parameters (readTouchedDeclared).
func (k configParamKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}
