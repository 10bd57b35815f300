package doctor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/klankermaker/km/internal/configtest"
	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/doctor"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/internal/schematest"
	"github.com/klankermaker/km/state"
)

// applied is a demo declaration (two accounts, one sandbox) after a full km apply.
type applied struct {
	*configtest.Fixture
	w       demo.Written
	sandbox string
}

func newApplied(t *testing.T) *applied {
	t.Helper()
	f := configtest.New(t, githubsim.WithOpenAPIValidation())
	sb := "sb-" + configtest.Uniq(t)
	w, err := demo.Write(f.Sim, f.Dir, demo.Options{Prefix: f.Prefix, Sandboxes: []string{sb}})
	if err != nil {
		t.Fatal(err)
	}
	f.ConfigPath = w.ConfigPath
	s, err := planapply.Open(context.Background(), f.Env())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true}); err != nil {
		t.Fatalf("full apply: %v\n%s", err, f.Out.String())
	}
	return &applied{Fixture: f, w: w, sandbox: sb}
}

func (a *applied) doctor(mod func(e *planapply.Env)) doctor.Report {
	e := a.Env()
	if mod != nil {
		mod(&e)
	}
	return doctor.Doctor(context.Background(), e)
}

func text(t *testing.T, r doctor.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func wantCheck(t *testing.T, r doctor.Report, name string, st doctor.Status, mention ...string) {
	t.Helper()
	c, ok := r.Find(name)
	if !ok {
		t.Fatalf("no check %s in:\n%s", name, text(t, r))
	}
	if c.Status != st {
		t.Fatalf("%s is %s (%s), want %s\n%s", name, c.Status, c.Message, st, text(t, r))
	}
	for _, m := range mention {
		if !strings.Contains(c.Message+" "+c.Fix, m) {
			t.Errorf("%s does not mention %q: %s / fix: %s", name, m, c.Message, c.Fix)
		}
	}
	if st != doctor.Pass && c.Fix == "" {
		t.Errorf("%s %s has no fix", name, st)
	}
}

// TestDoctor: healthy after a full apply (every check PASS, JSON parses, one
// line per account), then each breakage FAILs with its fix and exit status.
func TestDoctor(t *testing.T) {
	a := newApplied(t)

	r := a.doctor(nil)
	if r.Failed() {
		t.Fatalf("doctor after a full apply:\n%s", text(t, r))
	}
	for _, c := range r.Checks {
		if c.Status != doctor.Pass {
			t.Errorf("%s is %s after a full apply: %s", c.Name, c.Status, c.Message)
		}
	}
	for _, name := range []string{
		"aws.identity", "github.app-client-id", "github.private-key", "github.app",
		"github.installation[my-user]", "github.installation[my-org]", "github.legacy-installation-id",
		"refresher.function", "refresher.schedule-group", "refresher.failures",
		"sandbox[" + a.sandbox + "].token[my-user]", "sandbox[" + a.sandbox + "].token[my-org]", "sandbox[" + a.sandbox + "].schedule",
		"tokens.unrevoked",
	} {
		wantCheck(t, r, name, doctor.Pass)
	}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, schematest.Compile(t, "doctor-json.schema.json"), "km doctor --format json", b.Bytes())
	var doc struct {
		OK      bool           `json:"ok"`
		Summary map[string]int `json:"summary"`
		Checks  []doctor.Check `json:"checks"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("doctor JSON does not parse: %v\n%s", err, b.String())
	}
	if !doc.OK || doc.Summary["pass"] != len(r.Checks) || len(doc.Checks) != len(r.Checks) {
		t.Errorf("JSON ok=%v summary=%v, %d checks", doc.OK, doc.Summary, len(doc.Checks))
	}
	key, _ := os.ReadFile(a.w.KeyPath)
	configtest.NoSecret(t, "doctor text", text(t, r), key)
	configtest.NoSecret(t, "doctor JSON", b.String(), key)

	t.Run("refresher code out of date", func(t *testing.T) {
		zip := a.Zip + ".new"
		if err := os.WriteFile(zip, []byte("a newer refresher"), 0o644); err != nil {
			t.Fatal(err)
		}
		old := a.Zip
		a.Zip = zip
		defer func() { a.Zip = old }()
		wantCheck(t, a.doctor(nil), "refresher.function", doctor.Fail, "km apply")
	})
	t.Run("token expired", func(t *testing.T) {
		later := time.Now().Add(3 * time.Hour)
		r := a.doctor(func(e *planapply.Env) { e.Now = func() time.Time { return later } })
		wantCheck(t, r, "sandbox["+a.sandbox+"].token[my-user]", doctor.Fail, "expired", "km otel "+a.sandbox+" --events")
	})
	t.Run("refresh failures in the last hour", func(t *testing.T) {
		line := fmt.Sprintf(`{"time":%q,"level":"ERROR","msg":"token_refresh_failed","sandbox_id":%q,"owner":"my-org","installation_id":%d,"error":"installation suspended"}`,
			time.Now().UTC().Format(time.RFC3339Nano), a.sandbox, a.w.OrgInst)
		if err := a.AWS.PutLogEvents(context.Background(), names.New(a.Prefix).LogGroup(), "2026/01/01/[$LATEST]x", []state.LogEvent{{Message: line}}); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a.doctor(nil), "refresher.failures", doctor.Fail, a.sandbox, "installation suspended", "km otel")
	})
	t.Run("a retired token km could not revoke", func(t *testing.T) {
		u := sandboxtoken.Unrevoked{Sandbox: "sb-gone", Parameter: "/sandbox/sb-gone/github-token", Version: 2,
			TokenSHA: "0123456789ab", ExpiresAt: time.Now().Add(30 * time.Minute).UTC().Truncate(time.Second), Reason: "the refresher was not reachable"}
		n := names.New(a.Prefix)
		if err := sandboxtoken.RecordUnrevoked(context.Background(), a.AWS, n, u); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a.doctor(nil), "tokens.unrevoked", doctor.Warn, "0123456789ab", u.ExpiresAt.Format(time.RFC3339), "sb-gone")
		// Once it expired the record no longer warns.
		later := u.ExpiresAt.Add(time.Minute)
		wantCheck(t, a.doctor(func(e *planapply.Env) { e.Now = func() time.Time { return later } }), "tokens.unrevoked", doctor.Pass)
		if _, err := sandboxtoken.ListUnrevoked(context.Background(), a.AWS, n, later, true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("schedule disabled", func(t *testing.T) {
		n := names.New(a.Prefix)
		s, err := a.AWS.GetSchedule(context.Background(), n.ScheduleGroup(), n.Schedule(a.sandbox))
		if err != nil {
			t.Fatal(err)
		}
		s.State = "DISABLED"
		if err := a.AWS.UpdateSchedule(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		wantCheck(t, a.doctor(nil), "sandbox["+a.sandbox+"].schedule", doctor.Fail, "DISABLED", "km apply")
	})
	t.Run("installation suspended", func(t *testing.T) {
		a.Sim.SuspendInstallation(a.w.UserInst)
		defer a.Sim.UnsuspendInstallation(a.w.UserInst)
		wantCheck(t, a.doctor(nil), "github.installation[my-user]", doctor.Fail, "my-user", "suspended", "unsuspend")
	})
	t.Run("installation removed names the account", func(t *testing.T) {
		a.Sim.RemoveInstallation(a.w.OrgInst)
		r := a.doctor(nil)
		wantCheck(t, r, "github.installation[my-org]", doctor.Fail, "my-org", "no longer exists", "km configure github --discover --force")
		wantCheck(t, r, "github.installation[my-user]", doctor.Pass, "my-user")
		if !r.Failed() {
			t.Error("Failed() is false with a FAIL line")
		}
	})
	if errs := a.Sim.ValidationErrors(); len(errs) > 0 {
		t.Errorf("OpenAPI validation of GET /app, /app/installations/{id} and the token requests: %v", errs)
	}
}

// TestDoctorNotConfigured: no App in km.yaml nor SSM reports
// ErrGitHubNotConfigured with the seed's fix.
func TestDoctorNotConfigured(t *testing.T) {
	f := configtest.New(t)
	f.Write("km.yaml", fmt.Sprintf("region: us-east-1\nprefix: %s\n", f.Prefix))
	r := doctor.Doctor(context.Background(), f.Env())
	wantCheck(t, r, "github.configured", doctor.Fail, "ErrGitHubNotConfigured", "km github", "km configure github --discover --force")
	wantCheck(t, r, "github.app-client-id", doctor.Fail, "km github")
	wantCheck(t, r, "aws.identity", doctor.Pass)
	if !r.Failed() {
		t.Error("Failed() is false")
	}
}

// TestDoctorBadConfig: an invalid km.yaml is one FAIL line, not a crash.
func TestDoctorBadConfig(t *testing.T) {
	f := configtest.New(t)
	f.Write("km.yaml", "prefix: [not, a, string]\n")
	r := doctor.Doctor(context.Background(), f.Env())
	wantCheck(t, r, "config", doctor.Fail, "km.yaml", "km validate")
	if len(r.Checks) != 1 {
		t.Errorf("%d checks after a config failure, want 1", len(r.Checks))
	}
}

// km doctor never decrypts the App private key: on AWS only the refresher
// may (docs/security.md), so an operator's doctor compares fingerprints from
// the parameter's description and asks GitHub with the key file it has.
// Without a key file, the GitHub check is a warning naming why.
func TestDoctorNeverDecryptsTheAppKey(t *testing.T) {
	a := newApplied(t)
	decrypted := func() []string {
		var out []string
		for _, c := range a.Rec.Calls() {
			switch in := c.Input.(type) {
			case *ssm.GetParameterInput:
				if in.WithDecryption != nil && *in.WithDecryption {
					out = append(out, c.Operation+" "+*in.Name)
				}
			case *ssm.GetParametersInput:
				if in.WithDecryption != nil && *in.WithDecryption {
					out = append(out, c.Operation+" "+strings.Join(in.Names, ","))
				}
			}
		}
		return out
	}
	a.Rec.Reset()
	r := a.doctor(nil)
	wantCheck(t, r, "github.private-key", doctor.Pass, "holds an RSA key")
	wantCheck(t, r, "github.app", doctor.Pass)
	for _, d := range decrypted() {
		if strings.Contains(d, "/config/github/private-key") {
			t.Errorf("doctor decrypted the App key: %s", d)
		}
	}

	// The key file gone: the fingerprint still compares; GitHub is not asked.
	if err := os.Rename(a.w.KeyPath, a.w.KeyPath+".away"); err != nil {
		t.Fatal(err)
	}
	a.Rec.Reset()
	r = a.doctor(nil)
	wantCheck(t, r, "github.app", doctor.Warn, "only the refresher may decrypt", "github.privateKeyFile")
	for _, d := range decrypted() {
		if strings.Contains(d, "/config/github/private-key") {
			t.Errorf("doctor without a key file decrypted the App key: %s", d)
		}
	}
}
