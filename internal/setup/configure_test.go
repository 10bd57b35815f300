package setup_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/internal/configtest"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/setup"
	"github.com/klankermaker/km/internal/testkeys"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// appFixture is a fixture whose simulator has an App and whose km.yaml names it.
type appFixture struct {
	*fixture
	clientID string
	pem      []byte
}

const appYAML = `# km declaration under test
region: us-east-1
prefix: %s
github:
  appClientId: %s   # the App
  privateKeyFile: app.pem
%s`

func newAppFixture(t *testing.T, extra string, simOpts ...githubsim.Option) *appFixture {
	t.Helper()
	f := newFixture(t, simOpts...)
	app, key, err := f.Sim.CreateApp("km-test")
	if err != nil {
		t.Fatal(err)
	}
	f.Write("app.pem", string(key))
	f.Write("km.yaml", fmt.Sprintf(appYAML, f.Prefix, app.ClientID, extra))
	return &appFixture{fixture: f, clientID: app.ClientID, pem: key}
}

func (f *appFixture) configure(o setup.ConfigureOptions) (setup.ConfigureResult, error) {
	return setup.Configure(context.Background(), f.Env(), o)
}

func (f *appFixture) instParam(acct string) string {
	return "/" + f.Prefix + "/config/github/installations/" + acct
}

// TestDiscoverAcrossPages: --discover lists all 42 installations over five
// pages of GET /app/installations (Link headers, checked against GitHub's
// OpenAPI description) and records one per account in km.yaml and SSM.
func TestDiscoverAcrossPages(t *testing.T) {
	f := newAppFixture(t, "", githubsim.WithOpenAPIValidation(), githubsim.WithPerPageMax(10))
	want := map[string]int64{}
	for i := range 42 {
		kind := "User"
		if i%2 == 1 {
			kind = "Organization"
		}
		acct := fmt.Sprintf("acct-%02d", i)
		want[acct] = f.Sim.AddInstallation(acct, kind, nil, nil)
	}
	res, err := f.configure(setup.ConfigureOptions{Discover: true})
	if err != nil {
		t.Fatalf("configure --discover: %v\n%s", err, f.Out.String())
	}
	if len(res.Installations) != 42 {
		t.Fatalf("discovered %d installations, want 42", len(res.Installations))
	}
	if n := f.Sim.CountRequests("GET", "/app/installations"); n != 5 {
		t.Errorf("%d requests to GET /app/installations, want 5 pages of at most 10", n)
	}
	cfg, err := profiles.Load(f.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, in := range cfg.GitHub.Installations {
		got[in.Account] = in.ID
	}
	for acct, id := range want {
		if got[acct] != id {
			t.Errorf("km.yaml %s = %d, want %d", acct, got[acct], id)
		}
		if p, ok := f.Param(f.instParam(acct)); !ok || p.Value != strconv.FormatInt(id, 10) {
			t.Errorf("SSM %s = %q (present %v), want %d", f.instParam(acct), p.Value, ok, id)
		}
	}
	def, _ := cfg.InstallationFor(cfg.GitHub.DefaultInstallation)
	if p, ok := f.Param("/" + f.Prefix + "/config/github/installation-id"); !ok || p.Value != strconv.FormatInt(def.ID, 10) {
		t.Errorf("legacy installation-id = %q, want %d (%s)", p.Value, def.ID, def.Account)
	}
	if !strings.Contains(f.Read("km.yaml"), "# the App") {
		t.Error("km.yaml lost its comments")
	}
	if errs := f.Sim.ValidationErrors(); len(errs) > 0 {
		t.Errorf("OpenAPI validation: %v", errs)
	}
	configtest.NoSecret(t, "configure output", f.Out.String(), f.pem)
}

// TestConfigureRefusesDifferingValues: without --force a differing value in
// km.yaml or SSM is refused before anything is written (km.yaml byte for byte,
// SSM versions and no AWS write at all); with --force it is overwritten.
func TestConfigureRefusesDifferingValues(t *testing.T) {
	otherKey := rsaPEM(t, false)
	for _, tc := range []struct {
		name    string
		prepare func(f *appFixture) // drift made before the refused call
		opts    func(f *appFixture) setup.ConfigureOptions
		mention string
		check   func(t *testing.T, f *appFixture) // after --force
	}{
		{
			name: "installation id differs in km.yaml and SSM",
			opts: func(f *appFixture) setup.ConfigureOptions {
				return setup.ConfigureOptions{InstallationID: 999, Account: "my-org"}
			},
			mention: "github.installations.my-org",
			check: func(t *testing.T, f *appFixture) {
				if p, _ := f.Param(f.instParam("my-org")); p.Value != "999" {
					t.Errorf("SSM my-org = %s after --force, want 999", p.Value)
				}
			},
		},
		{
			name: "app client id differs",
			opts: func(f *appFixture) setup.ConfigureOptions {
				return setup.ConfigureOptions{AppClientID: "Iv1.other"}
			},
			mention: "Iv1.other",
			check: func(t *testing.T, f *appFixture) {
				if p, _ := f.Param("/" + f.Prefix + "/config/github/app-client-id"); p.Value != "Iv1.other" {
					t.Errorf("SSM app-client-id = %s after --force", p.Value)
				}
			},
		},
		{
			name: "private key differs",
			opts: func(f *appFixture) setup.ConfigureOptions {
				return setup.ConfigureOptions{PrivateKeyFile: f.Write("other.pem", string(otherKey))}
			},
			mention: "private key",
			check: func(t *testing.T, f *appFixture) {
				if p, _ := f.Param("/" + f.Prefix + "/config/github/private-key"); p.Value != string(otherKey) {
					t.Error("SSM private-key is not the new key after --force")
				}
			},
		},
		{
			name: "only SSM differs (changed outside km)",
			prepare: func(f *appFixture) {
				if _, err := f.AWS.PutParameter(context.Background(), state.PutParameterInput{
					Name: f.instParam("my-user"), Type: "String", Value: "424242", Overwrite: true,
				}); err != nil {
					f.T.Fatal(err)
				}
			},
			opts: func(f *appFixture) setup.ConfigureOptions {
				return setup.ConfigureOptions{InstallationID: 777, Account: "new-acct"}
			},
			mention: "424242",
			check: func(t *testing.T, f *appFixture) {
				if p, _ := f.Param(f.instParam("my-user")); p.Value != strconv.FormatInt(mustInst(t, f, "my-user"), 10) {
					t.Errorf("SSM my-user = %s after --force, want km.yaml's id", p.Value)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAppFixture(t, "")
			f.Sim.AddInstallation("my-user", "User", nil, nil)
			f.Sim.AddInstallation("my-org", "Organization", nil, nil)
			if _, err := f.configure(setup.ConfigureOptions{Discover: true}); err != nil {
				t.Fatalf("first configure: %v\n%s", err, f.Out.String())
			}
			if tc.prepare != nil {
				tc.prepare(f)
			}
			yamlBefore := f.Read("km.yaml")
			versionsBefore := f.Versions()
			f.Rec.Reset()

			_, err := f.configure(tc.opts(f))
			if err == nil || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), "nothing was written") {
				t.Fatalf("error %v; want a refusal mentioning %q and --force", err, tc.mention)
			}
			if got := f.Read("km.yaml"); got != yamlBefore {
				t.Errorf("km.yaml changed by a refused configure:\n%s", got)
			}
			if got := f.Versions(); fmt.Sprint(got) != fmt.Sprint(versionsBefore) {
				t.Errorf("SSM versions changed: %v -> %v", versionsBefore, got)
			}
			if n := f.Rec.CountWrites(); n != 0 {
				t.Errorf("a refused configure made %d AWS writes: %v", n, f.Rec.Calls())
			}
			configtest.NoSecret(t, "the refusal", err.Error(), f.pem, otherKey)

			o := tc.opts(f)
			o.Force = true
			if _, err := f.configure(o); err != nil {
				t.Fatalf("configure --force: %v\n%s", err, f.Out.String())
			}
			tc.check(t, f)
		})
	}
}

func mustInst(t *testing.T, f *appFixture, acct string) int64 {
	t.Helper()
	cfg, err := profiles.Load(f.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	in, ok := cfg.InstallationFor(acct)
	if !ok {
		t.Fatalf("%s not in km.yaml", acct)
	}
	return in.ID
}

// TestConfigureByHandCreatesKmYAML: the seed's manual form on a machine with
// no km.yaml yet writes it and SSM.
func TestConfigureByHandCreatesKmYAML(t *testing.T) {
	f := newFixture(t)
	key := rsaPEM(t, true) // PKCS#8
	keyPath := f.Write("keys/app.pem", string(key))
	// A fresh km.yaml has the default prefix "km": this is the only test in
	// the package that uses it, and its account and client id are unique.
	acct := "acct-" + f.Prefix
	res, err := f.configure(setup.ConfigureOptions{InstallationID: 12345678, Account: acct, AppClientID: "Iv1.byhand" + f.Prefix, PrivateKeyFile: keyPath, Force: true})
	if err != nil {
		t.Fatalf("configure by hand: %v\n%s", err, f.Out.String())
	}
	if res.Installations[acct] != 12345678 {
		t.Errorf("result %v", res.Installations)
	}
	cfg, err := profiles.Load(f.ConfigPath)
	if err != nil {
		t.Fatalf("the written km.yaml: %v", err)
	}
	if cfg.GitHub.AppClientID != "Iv1.byhand"+f.Prefix || cfg.GitHub.PrivateKeyFile != keyPath || len(cfg.GitHub.Installations) != 1 {
		t.Errorf("km.yaml github = %+v", cfg.GitHub)
	}
	if !strings.Contains(f.Read("km.yaml"), "privateKeyFile: keys/app.pem") {
		t.Errorf("privateKeyFile is not relative to km.yaml:\n%s", f.Read("km.yaml"))
	}
	if p, ok := f.Param("/km/config/github/installations/" + acct); !ok || p.Value != "12345678" {
		t.Errorf("SSM installation = %q (present %v)", p.Value, ok)
	}
	configtest.NoSecret(t, "configure output", f.Out.String(), key)
}

func (f *fixture) configure(o setup.ConfigureOptions) (setup.ConfigureResult, error) {
	return setup.Configure(context.Background(), f.Env(), o)
}

// TestConfigureRejectsBadKeys: a key that is not RSA (or not a key) is refused
// before anything is written, without quoting the file.
func TestConfigureRejectsBadKeys(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	for _, tc := range []struct{ name, content string }{
		{"ECDSA PKCS#8", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))},
		{"not PEM", "just-some-secret-text-that-is-not-a-key-0123456789"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAppFixture(t, "")
			before := f.Read("km.yaml")
			f.Rec.Reset()
			_, err := f.configure(setup.ConfigureOptions{PrivateKeyFile: f.Write("bad.pem", tc.content), Force: true})
			if err == nil || !strings.Contains(err.Error(), "bad.pem") {
				t.Fatalf("error %v, want one naming bad.pem", err)
			}
			configtest.NoSecret(t, "the error", err.Error(), []byte(tc.content))
			if strings.Contains(err.Error(), "just-some-secret") {
				t.Errorf("error quotes the key file: %v", err)
			}
			if f.Read("km.yaml") != before || f.Rec.CountWrites() != 0 {
				t.Error("something was written for a bad key")
			}
		})
	}
}

// TestConfigureRestoresKmYAMLWhenApplyFails: SSM refuses the write (an SDK
// middleware fails PutParameter: kumo cannot be made to), km.yaml gets its
// bytes back.
func TestConfigureRestoresKmYAMLWhenApplyFails(t *testing.T) {
	f := newAppFixture(t, "")
	f.Sim.AddInstallation("my-user", "User", nil, nil)
	_, _, endpoint := statetest.NewKumo(t) // same store, a client of its own
	failing, _ := statetest.Client(t, endpoint, state.Options{MaxAttempts: 1, APIOptions: []func(*middleware.Stack) error{failOperation("PutParameter")}})
	f.AWS = failing
	before := f.Read("km.yaml")
	_, err := f.configure(setup.ConfigureOptions{Discover: true})
	if err == nil || !strings.Contains(err.Error(), "restored") {
		t.Fatalf("error %v, want a failed apply that restored km.yaml", err)
	}
	if got := f.Read("km.yaml"); got != before {
		t.Errorf("km.yaml not restored:\n%s", got)
	}
}

func failOperation(op string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("failOp", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if awsmiddleware.GetOperationName(ctx) == op {
				return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("AccessDeniedException: injected by the test")
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	}
}

// TestConfigureInteractiveConfirm: with prompts allowed and no flags, km asks
// for the values and discovers; a differing value is overwritten after "yes"
// and refused after anything else.
func TestConfigureInteractiveConfirm(t *testing.T) {
	f := newAppFixture(t, "")
	f.Sim.AddInstallation("my-user", "User", nil, nil)
	// No flags: km asks for the client ID and key (Enter keeps km.yaml's), then discovers.
	e := f.Env()
	e.Stdin = strings.NewReader("\n\n")
	res, err := setup.Configure(context.Background(), e, setup.ConfigureOptions{Interactive: true})
	if err != nil || len(res.Installations) != 1 || !strings.Contains(f.Out.String(), "GitHub App client ID") {
		t.Fatalf("prompted configure: %v, %v\n%s", err, res.Installations, f.Out.String())
	}
	for _, tc := range []struct {
		answer string
		ok     bool
	}{{"no\n", false}, {"yes\n", true}} {
		e := f.Env()
		e.Stdin = strings.NewReader(tc.answer)
		_, err := setup.Configure(context.Background(), e, setup.ConfigureOptions{InstallationID: 31337, Account: "my-user", Interactive: true})
		if (err == nil) != tc.ok {
			t.Fatalf("answer %q: error %v", tc.answer, err)
		}
	}
	if p, _ := f.Param(f.instParam("my-user")); p.Value != "31337" {
		t.Errorf("SSM my-user = %s after yes", p.Value)
	}
}

func rsaPEM(t *testing.T, pkcs8 bool) []byte { return testkeys.NewPEM(t, pkcs8) }
