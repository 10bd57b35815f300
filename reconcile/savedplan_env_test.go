package reconcile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// savedPlanEnv is a declaration (two owners per sandbox, as internal/demo)
// connected to kumo and the GitHub simulator, for the saved-plan tests. kumo
// shares one store per process: every env uses its own prefix and sandbox ids.
type savedPlanEnv struct {
	t      *testing.T
	ctx    context.Context
	sim    *githubsim.Server
	aws    *state.AWS
	rec    *state.Recorder
	w      declaration
	rt     *Runtime
	n      names.Names
	prefix string
	ids    []string
}

// newSavedPlanEnv suffixes prefix and every sandbox id with a random tag, so
// that a re-run in the same process (go test -count=N) starts from nothing:
// use e.prefix and e.ids.
func newSavedPlanEnv(t *testing.T, prefix string, ids ...string) *savedPlanEnv {
	t.Helper()
	tag := make([]byte, 3)
	_, _ = rand.Read(tag)
	prefix = fmt.Sprintf("%s%x", prefix, tag)
	ids = append([]string(nil), ids...)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%x", ids[i], tag)
	}
	ctx := context.Background()
	aws, rec, _ := statetest.NewKumo(t)
	sim := githubsim.New()
	t.Cleanup(sim.Close)
	w := writeDeclaration(t, sim, prefix, ids)
	who, err := aws.CallerIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(w.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	key, err := githubapp.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	gh := githubapp.NewAppClient(githubapp.AppAuth{ClientID: w.ClientID, Signer: githubapp.NewRSASigner(key)}, githubapp.Options{APIURL: sim.URL})
	e := &savedPlanEnv{t: t, ctx: ctx, sim: sim, aws: aws, rec: rec, w: w, n: names.New(prefix), prefix: prefix, ids: ids}
	e.rt = &Runtime{
		AWS: aws, Names: e.n, Region: statetest.Region, Account: who.Account, Zip: []byte("zip-" + prefix),
		Minter: func(context.Context) (Minter, error) { return gh, nil },
	}
	return e
}

func (e *savedPlanEnv) config() *profiles.Config {
	e.t.Helper()
	cfg, err := profiles.Load(e.w.ConfigPath)
	if err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

func (e *savedPlanEnv) plan(opts PlanOptions) *Planned {
	e.t.Helper()
	pl, err := MakePlan(e.ctx, e.config(), e.rt, opts)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return pl
}

// applyAll plans and applies everything, as km apply -auto-approve does.
func (e *savedPlanEnv) applyAll() {
	e.t.Helper()
	if _, err := Apply(e.ctx, e.rt, e.plan(PlanOptions{}), ApplyOptions{}); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
}

// save plans and returns the plan file as km apply would read it back.
func (e *savedPlanEnv) save(opts PlanOptions) *PlanFile {
	e.t.Helper()
	f, err := NewPlanFile(e.plan(opts).Plan, PlanMeta{
		PlanID: newTestPlanID(e.t), Account: e.rt.Account, KMVersion: "test", Declaration: "km.yaml",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := f.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	back, err := DecodePlanFile(b)
	if err != nil {
		e.t.Fatal(err)
	}
	return back
}

// applyFile is km apply FILE: refuse an applied plan, re-check, claim, apply,
// record.
func (e *savedPlanEnv) applyFile(f *PlanFile) (ApplyResult, error) {
	if err := CheckNotApplied(e.ctx, e.rt, f); err != nil {
		return ApplyResult{}, err
	}
	pl, err := PrepareSavedPlan(e.ctx, e.config(), e.rt, f)
	if err != nil {
		return ApplyResult{}, err
	}
	if err := ClaimPlan(e.ctx, e.rt, f); err != nil {
		return ApplyResult{}, err
	}
	res, err := Apply(e.ctx, e.rt, pl, ApplyOptions{})
	if rerr := RecordApplied(e.ctx, e.rt, f, res, err); rerr != nil {
		return res, rerr
	}
	return res, err
}

// ownChanges are the plan's changes to this env's resources (kumo's shared
// store may hold other tests' token parameters, which show up as orphans).
func (e *savedPlanEnv) ownChanges(p *Plan) []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Sandbox == "" || slices.Contains(e.ids, c.Sandbox) {
			out = append(out, c)
		}
	}
	return out
}

func (e *savedPlanEnv) keyID(sandbox string) string {
	e.t.Helper()
	k, err := e.aws.DescribeKey(e.ctx, e.n.KeyAlias(sandbox))
	if err != nil {
		e.t.Fatal(err)
	}
	return k.KeyID
}

// writeToken overwrites a sandbox's first-owner token parameter as the
// refresher would, with the given scope in its metadata.
func (e *savedPlanEnv) writeToken(sandbox, scope, value string) {
	e.t.Helper()
	err := sandboxtoken.Write(e.ctx, e.aws, sandbox, sandboxtoken.Minted{
		Parameter: sandboxtoken.Param(sandbox, "my-user", true), KeyAlias: e.n.KeyAlias(sandbox),
		Token:  githubapp.Token{Value: value, ExpiresAt: time.Now().Add(time.Hour)},
		Meta:   sandboxtoken.Meta{Owner: "my-user", InstallationID: e.w.UserInst, Scope: scope, MintedAt: time.Now(), MintedBy: "refresher"},
		Prefix: e.prefix,
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func newTestPlanID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	if !ValidPlanID(id) {
		t.Fatalf("bad test plan id %s", id)
	}
	return id
}

func staleConflicts(t *testing.T, err error) []Conflict {
	t.Helper()
	var se *StaleError
	if !errors.As(err, &se) || !errors.Is(err, ErrStalePlan) {
		t.Fatalf("err = %v, want a *StaleError", err)
	}
	return se.Conflicts
}

// declaration is what writeDeclaration wrote.
type declaration struct {
	ConfigPath string
	KeyPath    string
	ClientID   string
	UserInst   int64
	OrgInst    int64
}

// writeDeclaration writes km.yaml, a profile and the App key under a temporary
// folder, like internal/demo but without git repositories on disk (faster).
func writeDeclaration(t *testing.T, sim *githubsim.Server, prefix string, ids []string) declaration {
	t.Helper()
	app, pem, err := sim.CreateApp("km-saved-plan-test")
	if err != nil {
		t.Fatal(err)
	}
	perms := map[string]string{"contents": "write", "metadata": "read"}
	d := declaration{
		ClientID: app.ClientID,
		UserInst: sim.AddInstallation("my-user", "User", []string{"my-repo"}, perms),
		OrgInst:  sim.AddInstallation("my-org", "Organization", nil, perms),
	}
	dir := t.TempDir()
	d.KeyPath = filepath.Join(dir, "app.pem")
	d.ConfigPath = filepath.Join(dir, "km.yaml")
	var sb strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&sb, "  - id: %s\n    profile: my-profile\n    principal: arn:aws:iam::123456789012:role/km-sandbox-%s\n", id, id)
	}
	files := map[string]string{
		d.KeyPath: string(pem),
		filepath.Join(dir, "profiles", "my-profile.yaml"): `apiVersion: klankermaker.ai/v1alpha1
kind: SandboxProfile
metadata: {name: my-profile}
spec:
  sourceAccess:
    github:
      allowedRepos: [my-user/my-repo, my-org/*]
      permissions: [clone, fetch, push]
`,
		d.ConfigPath: fmt.Sprintf(`region: us-east-1
prefix: %s
github:
  appClientId: %s
  privateKeyFile: app.pem
  apiURL: %s
  installations:
    my-user: %d
    my-org: %d
sandboxes:
%s`, prefix, app.ClientID, sim.URL, d.UserInst, d.OrgInst, sb.String()),
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
