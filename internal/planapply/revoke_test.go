package planapply_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/internal/sandboxes"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// tokens reads the values of a sandbox's token parameters (the test may:
// kumo checks no key policy) by parameter name.
func (f *fixture) tokens(id string) map[string]string {
	f.T.Helper()
	ctx := context.Background()
	ps, err := f.AWS.DescribeParameters(ctx, "/sandbox/"+id)
	if err != nil {
		f.T.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range ps {
		if !strings.Contains(p.Name, "/github-token") {
			continue
		}
		v, err := f.AWS.GetParameter(ctx, p.Name, true)
		if err != nil {
			f.T.Fatal(err)
		}
		out[p.Name] = v.Value
	}
	return out
}

func (f *fixture) editProfile(from, to string) {
	f.T.Helper()
	prof := f.Written.ProfilesDir + "/my-profile.yaml"
	b, err := os.ReadFile(prof)
	if err != nil {
		f.T.Fatal(err)
	}
	nb := strings.Replace(string(b), from, to, 1)
	if nb == string(b) {
		f.T.Fatalf("profile has no %q", from)
	}
	if err := os.WriteFile(prof, []byte(nb), 0o644); err != nil {
		f.T.Fatal(err)
	}
}

func (f *fixture) revocations() int { return f.Sim.CountRequests("DELETE", "/installation/token") }

// assertNoTokens fails when any token githubsim issued appears in text.
func (f *fixture) assertNoTokens(where, text string) {
	f.T.Helper()
	for _, tok := range f.Sim.Tokens() {
		if strings.Contains(text, tok.Token) {
			f.T.Fatalf("%s contains an installation token", where)
		}
	}
}

// Narrowing a profile re-mints the token and the refresher revokes the old
// one after the new one is stored: the old token is dead at GitHub, the
// new one lives, and the apply names the revoked token by its hash only.
func TestNarrowingAProfileRevokesTheOldToken(t *testing.T) {
	f := newFixture(t, "kmnarrow", []string{"sb-narrow1"})
	f.Apply()
	logs := f.StartRefresher()
	old := f.tokens(f.ID("sb-narrow1"))
	if len(old) != 2 {
		t.Fatalf("tokens after apply: %d", len(old))
	}
	f.editProfile("allowedRepos: [my-user/my-repo, my-org/*]", "allowedRepos: [my-user/other-repo, my-org/*]")
	f.Out.Reset()
	f.Rec.Reset()
	f.Apply()

	// Synchronous revoke requests naming the parameter, carrying no token:
	// one before the overwrite, and (kumo has no history) none after.
	invokes := f.Rec.Operation("Invoke")
	if len(invokes) != 1 {
		t.Fatalf("%d Invoke calls, want 1", len(invokes))
	}
	in := invokes[0].Input.(*awslambda.InvokeInput)
	if in.InvocationType != lambdatypes.InvocationTypeRequestResponse ||
		!strings.Contains(string(in.Payload), `"action":"revoke"`) || !strings.Contains(string(in.Payload), `"before_overwrite":true`) {
		t.Errorf("Invoke %s %s", in.InvocationType, in.Payload)
	}
	f.assertNoTokens("revoke request", string(in.Payload))

	base := "/sandbox/" + f.ID("sb-narrow1") + "/github-token"
	if f.Sim.TokenLive(old[base]) {
		t.Errorf("the token of the narrowed scope (my-repo) still works at GitHub\n%s\nrefresher:\n%s", f.Out.String(), logs)
	}
	if !f.Sim.TokenLive(old[base+"-my-org"]) {
		t.Error("the my-org token, whose scope did not change, was revoked")
	}
	now := f.tokens(f.ID("sb-narrow1"))
	if is, ok := f.Sim.LookupToken(now[base]); !ok || !f.Sim.TokenLive(now[base]) || strings.Join(is.Repositories, ",") != "other-repo" {
		t.Fatalf("the new token: %+v live=%v", is, f.Sim.TokenLive(now[base]))
	}
	if !strings.Contains(f.Out.String(), "revoked token "+sandboxtoken.SHA(old[base])) {
		t.Errorf("apply output does not name the revoked token's hash:\n%s", f.Out.String())
	}
	f.assertNoTokens("apply output", f.Out.String())
	f.assertNoTokens("refresher output", logs.String())
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after the narrowing: %v", fleettest.Actions(p))
	}
}

// Removing a sandbox from km.yaml and applying revokes its tokens before
// their parameters are deleted.
func TestRemovingASandboxRevokesItsTokens(t *testing.T) {
	f := newFixture(t, "kmremove", []string{"sb-keep1", "sb-gone1"})
	f.Apply()
	f.StartRefresher()
	gone, kept := f.tokens(f.ID("sb-gone1")), f.tokens(f.ID("sb-keep1"))
	cb, _ := os.ReadFile(f.Written.ConfigPath)
	i := strings.Index(string(cb), "  - id: "+f.ID("sb-gone1"))
	if i < 0 {
		t.Fatalf("km.yaml has no "+f.ID("sb-gone1")+":\n%s", cb)
	}
	if err := os.WriteFile(f.Written.ConfigPath, cb[:i], 0o644); err != nil {
		t.Fatal(err)
	}
	f.ApplyAllowing(1) // 1 of 2 sandboxes: past safety.maxDestroyPercent
	for p, v := range gone {
		if f.Sim.TokenLive(v) {
			t.Errorf("%s: the removed sandbox's token still works", p)
		}
		if _, err := f.AWS.GetParameter(context.Background(), p, false); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("%s still exists: %v", p, err)
		}
	}
	for p, v := range kept {
		if !f.Sim.TokenLive(v) {
			t.Errorf("%s: the kept sandbox's token was revoked", p)
		}
	}
	if u, err := f.Session().Unrevoked(context.Background()); err != nil || len(u) != 0 {
		t.Errorf("unrevoked records after a revoking apply: %v %v", u, err)
	}
}

// km destroy answered "no" revokes nothing and changes nothing.
func TestDestroyAnsweredNoChangesNothing(t *testing.T) {
	f := newFixture(t, "kmdestno", []string{"sb-destno"})
	f.Apply()
	f.StartRefresher()
	before := f.tokens(f.ID("sb-destno"))
	cfgBefore, _ := os.ReadFile(f.Written.ConfigPath)
	calls := f.Rec.CountWrites()
	e := f.Env()
	e.Stdin = strings.NewReader("no\n")
	err := sandboxes.Destroy(context.Background(), e, sandboxes.DestroyOptions{ID: f.ID("sb-destno")})
	if !errors.Is(err, planapply.ErrCancelled) {
		t.Fatalf("destroy answered no: %v", err)
	}
	if n := f.revocations(); n != 0 {
		t.Errorf("%d revocations at GitHub before the approval", n)
	}
	for p, v := range before {
		if !f.Sim.TokenLive(v) {
			t.Errorf("%s: token revoked although the destroy was cancelled", p)
		}
	}
	if got := f.tokens(f.ID("sb-destno")); len(got) != len(before) {
		t.Errorf("token parameters changed: %v", got)
	}
	if b, _ := os.ReadFile(f.Written.ConfigPath); string(b) != string(cfgBefore) {
		t.Errorf("km.yaml changed:\n%s", b)
	}
	// Only the state lock is written (taken and released).
	if w := f.Rec.CountWrites() - calls; w > 2 {
		t.Errorf("%d AWS writes for a cancelled destroy, want only the lock's", w)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after a cancelled destroy: %v", fleettest.Actions(p))
	}
}

// Dropping an owner from a profile: the parameter the dropped owner's token
// sat in now belongs to the remaining owner (its first), so plan shows the
// replacement, the leftover parameter of the remaining owner is an orphan,
// both old tokens are revoked, and km list shows the owners the tokens
// really have.
func TestDroppingAnOwnerIsSeenRevokedAndDeleted(t *testing.T) {
	f := newFixture(t, "kmdrop", []string{"sb-drop1"})
	f.Apply()
	logs := f.StartRefresher()
	old := f.tokens(f.ID("sb-drop1"))
	base := "/sandbox/" + f.ID("sb-drop1") + "/github-token"
	f.editProfile("allowedRepos: [my-user/my-repo, my-org/*]", "allowedRepos: [my-org/*]")

	p := f.Plan()
	got := fleettest.Actions(p)
	want := map[string]reconcile.Action{
		`sandbox["` + f.ID("sb-drop1") + `"].km_github_token["my-org"]`:                     reconcile.Replace,
		`sandbox["` + f.ID("sb-drop1") + `"].km_github_token["my-org/github-token-my-org"]`: reconcile.Delete,
		`sandbox["` + f.ID("sb-drop1") + `"].aws_scheduler_schedule.refresh`:                reconcile.Update,
	}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s: %v, want %v (plan %v)", a, got[a], w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	for _, c := range p.Changes {
		if c.Address == `sandbox["`+f.ID("sb-drop1")+`"].km_github_token["my-org"]` && !strings.Contains(c.Reason, "holds my-user's token") {
			t.Errorf("replacement reason %q does not name the owner", c.Reason)
		}
	}
	rows, err := sandboxes.List(context.Background(), f.Session())
	if err != nil || len(rows) != 1 || strings.Join(rows[0].TokenOwners, ",") != "my-org,my-user" || rows[0].Status != "drifted" {
		t.Fatalf("list before apply: %+v %v", rows, err)
	}

	f.Out.Reset()
	f.Apply()
	for p, v := range old {
		if f.Sim.TokenLive(v) {
			t.Errorf("%s: the old token still works\n%s\nrefresher:\n%s", p, f.Out.String(), logs)
		}
	}
	now := f.tokens(f.ID("sb-drop1"))
	if len(now) != 1 {
		t.Fatalf("token parameters after apply: %v", len(now))
	}
	if is, ok := f.Sim.LookupToken(now[base]); !ok || is.Account != "my-org" || !f.Sim.TokenLive(now[base]) {
		t.Fatalf("%s holds %+v", base, is)
	}
	ps, _ := f.AWS.DescribeParameters(context.Background(), "/sandbox/"+f.ID("sb-drop1"))
	if m, err := sandboxtoken.DecodeMeta(ps[0].Description); err != nil || m.Owner != "my-org" {
		t.Errorf("metadata %+v %v", m, err)
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after apply: %v", fleettest.Actions(p))
	}
	rows, err = sandboxes.List(context.Background(), f.Session())
	if err != nil || strings.Join(rows[0].Owners, ",") != "my-org" || strings.Join(rows[0].TokenOwners, ",") != "my-org" || rows[0].Status != "ok" {
		t.Fatalf("list after apply: %+v %v", rows, err)
	}
	f.assertNoTokens("apply output", f.Out.String())
}

// Without a reachable refresher (the function has no runtime), apply still
// converges: it names each retired token's hash and expiry, records it, and
// km list shows it until it expires.
func TestUnreachableRefresherLeavesAVisibleRecord(t *testing.T) {
	f := newFixture(t, "kmunrev", []string{"sb-unrev1", "sb-unrev2"})
	f.Apply()
	ps, _ := f.AWS.DescribeParameters(context.Background(), "/sandbox/"+f.ID("sb-unrev2"))
	var metas []sandboxtoken.Meta
	for _, p := range ps {
		m, err := sandboxtoken.DecodeMeta(p.Description)
		if err != nil {
			t.Fatal(err)
		}
		metas = append(metas, m)
	}
	cb, _ := os.ReadFile(f.Written.ConfigPath)
	i := strings.Index(string(cb), "  - id: "+f.ID("sb-unrev2"))
	if err := os.WriteFile(f.Written.ConfigPath, cb[:i], 0o644); err != nil {
		t.Fatal(err)
	}
	f.Out.Reset()
	f.ApplyAllowing(1) // 1 of 2 sandboxes: past safety.maxDestroyPercent
	out := f.Out.String()
	for _, m := range metas {
		if !strings.Contains(out, m.TokenSHA) || !strings.Contains(out, m.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")) {
			t.Errorf("apply output does not name token %s and its expiry:\n%s", m.TokenSHA, out)
		}
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("apply did not converge: %v", fleettest.Actions(p))
	}
	rows, err := sandboxes.List(context.Background(), f.Session())
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, r := range rows {
		for _, u := range r.Unrevoked {
			listed = append(listed, u.TokenSHA)
			if u.Sandbox != f.ID("sb-unrev2") {
				t.Errorf("record of %s", u.Sandbox)
			}
		}
	}
	if len(listed) != len(metas) {
		t.Errorf("km list shows %v, want the %d retired tokens", listed, len(metas))
	}
	f.assertNoTokens("apply output", out)
}

// withSSMHistory points the fixture (and the refresher it starts) at a
// proxy that keeps SSM parameter history, which kumo lacks.
func (f *fixture) withSSMHistory() *fixture {
	f.T.Helper()
	f.Proxy = refreshertest.NewProxy(f.T, f.KumoURL)
	f.Proxy.KeepSSMHistory()
	f.AWS, f.Rec = statetest.Client(f.T, f.Proxy.URL, state.Options{})
	return f
}

// km destroy after a refresh revokes both versions the parameter holds:
// the refresher's current token and apply's previous one, which the
// sandbox may still use (the overlap), read from the parameter's history.
func TestDestroyAfterARefreshRevokesBothVersions(t *testing.T) {
	f := newFixture(t, "kmdestboth", []string{"sb-both1"}).withSSMHistory()
	f.Apply()
	logs := f.StartRefresher()
	applied := f.tokens(f.ID("sb-both1"))
	if _, err := f.Refresh(f.ID("sb-both1")); err != nil {
		t.Fatalf("refresh: %v\n%s", err, logs)
	}
	refreshed := f.tokens(f.ID("sb-both1"))
	f.Out.Reset()
	if err := sandboxes.Destroy(context.Background(), f.Env(), sandboxes.DestroyOptions{ID: f.ID("sb-both1"), AutoApprove: true}); err != nil {
		t.Fatalf("destroy: %v\n%s", err, f.Out.String())
	}
	for _, set := range []map[string]string{applied, refreshed} {
		for p, v := range set {
			if f.Sim.TokenLive(v) {
				t.Errorf("%s: token %s still works after destroy\n%s\nrefresher:\n%s", p, sandboxtoken.SHA(v), f.Out.String(), logs)
			}
			if !strings.Contains(f.Out.String(), "revoked token "+sandboxtoken.SHA(v)) {
				t.Errorf("destroy output does not name the revoked token %s", sandboxtoken.SHA(v))
			}
		}
	}
	if f.Proxy.HistoryRequests() == 0 {
		t.Error("the refresher never read the parameter history")
	}
	if u, err := f.Session().Unrevoked(context.Background()); err != nil || len(u) != 0 {
		t.Errorf("unrevoked after destroy: %v %v", u, err)
	}
	f.assertNoTokens("destroy output", f.Out.String())
	f.assertNoTokens("refresher output", logs.String())
}

// wideMinter asks GitHub for every repository whatever apply requested: the
// grant then differs from the request, as when GitHub ignores a field.
type wideMinter struct{ next reconcile.Minter }

func (m wideMinter) CreateToken(ctx context.Context, req githubapp.TokenRequest) (githubapp.Token, error) {
	req.Repositories = nil
	return m.next.CreateToken(ctx, req)
}

func (m wideMinter) RevokeMinted(ctx context.Context, tok githubapp.Token) error {
	return m.next.(reconcile.MintedRevoker).RevokeMinted(ctx, tok)
}

// Apply checks what GitHub granted with the refresher's check
// (githubapp.VerifyGrant) before it stores a token.
func TestApplyVerifiesTheGrantBeforeStoring(t *testing.T) {
	f := newFixture(t, "kmverify", []string{"sb-verify1"})
	s := f.Session()
	app, err := s.Runtime.Minter(context.Background()) // the App minter km wires
	if err != nil {
		t.Fatal(err)
	}
	s.Runtime.Minter = func(context.Context) (reconcile.Minter, error) { return wideMinter{app}, nil }
	err = s.PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true})
	if err == nil || !strings.Contains(err.Error(), "GitHub granted a different scope than requested") || !strings.Contains(err.Error(), f.ID("sb-verify1")) {
		t.Fatalf("apply with a wider grant: %v", err)
	}
	if _, err := f.AWS.GetParameter(context.Background(), "/sandbox/"+f.ID("sb-verify1")+"/github-token", false); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("the unverified token was stored: %v", err)
	}
	f.assertNoTokens("error", err.Error())
	f.assertNoTokens("apply output", f.Out.String())
	// The unverified token was never stored: apply revoked it itself.
	issued := f.Sim.Tokens()
	if len(issued) == 0 || !strings.Contains(err.Error(), "it was revoked") {
		t.Errorf("%d tokens issued; error %v", len(issued), err)
	}
	for _, tok := range issued {
		// my-org/* asks for every repository anyway: only my-user's grant differs.
		if tok.InstallationID == f.Written.UserInst && f.Sim.TokenLive(tok.Token) {
			t.Errorf("an unverified token (%s) is still live", sandboxtoken.SHA(tok.Token))
		}
	}
}

// A declared privateKeyFile missing on disk (CI that only plans): plan keeps
// the key SSM holds and says so; with no key in SSM either, apply refuses
// with the fix and writes nothing.
func TestMissingKeyFilePlansAgainstSSM(t *testing.T) {
	f := newFixture(t, "kmnokey", []string{"sb-nokey1"})
	f.Apply()
	if err := os.Rename(f.Written.KeyPath, f.Written.KeyPath+".away"); err != nil {
		t.Fatal(err)
	}
	s := f.Session()
	pl, err := s.ComputePlan(context.Background(), "plan", planapply.PlanOptions{})
	if err != nil {
		t.Fatalf("plan without the key file: %v", err)
	}
	if pl.Plan.HasChanges() {
		t.Errorf("plan without the key file has changes: %v", fleettest.Actions(pl.Plan))
	}
	if w := strings.Join(pl.Plan.Warnings, "\n"); !strings.Contains(w, f.Written.KeyPath+" does not exist") || !strings.Contains(w, "keeps the App private key SSM holds") {
		t.Errorf("plan warnings %q", w)
	}
	f.Apply() // nothing to upload: fine

	// Without the key in SSM, an apply would have to upload it.
	if err := f.AWS.DeleteParameter(context.Background(), "/"+f.Prefix+"/config/github/private-key"); err != nil {
		t.Fatal(err)
	}
	writes := f.Rec.CountWrites()
	err = f.Session().PlanAndApply(context.Background(), planapply.ApplyOptions{AutoApprove: true})
	if err == nil || !strings.Contains(err.Error(), "SSM holds no App private key") || !strings.Contains(err.Error(), "km configure github --private-key-file") {
		t.Fatalf("apply needing the missing key: %v", err)
	}
	if w := f.Rec.CountWrites() - writes; w > 2 {
		t.Errorf("%d AWS writes, want only the lock's", w)
	}
}

// When one apply both updates the refresher and retires a token, the
// revocation waits for the function's update (the new code answers it).
func TestRetirementWaitsForTheRefresherUpdate(t *testing.T) {
	f := newFixture(t, "kmwaitfn", []string{"sb-waitfn"})
	f.Apply()
	f.StartRefresher()
	// The code update answers late: without the wait the revocation would
	// run meanwhile.
	slow := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("slowUpdate",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetOperationName(ctx) == "UpdateFunctionCode" {
					time.Sleep(2 * time.Second)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
	f.AWS, f.Rec = statetest.Client(t, f.KumoURL, state.Options{APIOptions: []func(*middleware.Stack) error{slow}})
	old := f.tokens(f.ID("sb-waitfn"))
	if err := os.WriteFile(f.Zip, []byte("zip-v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.editProfile("allowedRepos: [my-user/my-repo, my-org/*]", "allowedRepos: [my-user/other-repo, my-org/*]")
	f.Out.Reset()
	f.Apply()
	out := f.Out.String()
	fnDone := strings.Index(out, "aws_lambda_function.refresher: Modifications complete")
	revoked := strings.Index(out, "revoked token "+sandboxtoken.SHA(old["/sandbox/"+f.ID("sb-waitfn")+"/github-token"]))
	if fnDone < 0 || revoked < 0 || revoked < fnDone {
		t.Fatalf("function update at %d, revocation at %d: the revocation must come after the update\n%s", fnDone, revoked, out)
	}
}

// Every live token parameter maps to exactly one address, even when two
// leftovers of an undeclared sandbox hold the same owner's token.
func TestEveryTokenParameterHasItsOwnAddress(t *testing.T) {
	f := newFixture(t, "kmaddr", []string{"sb-addr1"})
	f.Apply()
	ctx := context.Background()
	ps, _ := f.AWS.DescribeParameters(ctx, "/sandbox/"+f.ID("sb-addr1"))
	var orgDesc string
	for _, p := range ps {
		if p.Name == "/sandbox/"+f.ID("sb-addr1")+"/github-token-my-org" {
			orgDesc = p.Description
		}
	}
	for _, name := range []string{"/sandbox/" + f.ID("sb-addr9") + "/github-token", "/sandbox/" + f.ID("sb-addr9") + "/github-token-my-org"} {
		if _, err := f.AWS.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "SecureString", Value: "ghs_standInStandInStandIn00000000000", Description: orgDesc}); err != nil {
			t.Fatal(err)
		}
	}
	got := fleettest.Actions(f.Plan())
	want := map[string]reconcile.Action{
		`sandbox["` + f.ID("sb-addr9") + `"].km_github_token["my-org"]`:                     reconcile.Delete,
		`sandbox["` + f.ID("sb-addr9") + `"].km_github_token["my-org/github-token-my-org"]`: reconcile.Delete,
	}
	if len(got) != len(want) {
		t.Fatalf("plan %v, want %v", got, want)
	}
	for a, w := range want {
		if got[a] != w {
			t.Errorf("%s: %v, want %v", a, got[a], w)
		}
	}
	f.ApplyAllowing(1) // the leftovers' sandbox counts as 1 of 2 live ones
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("after apply: %v", fleettest.Actions(p))
	}
}
