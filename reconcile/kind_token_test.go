package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
)

// fakeTokens implements TokenAPI over a map of written parameters.
type fakeTokens struct {
	AWS    // nil: a call outside TokenAPI panics
	params map[string]state.PutParameterInput
	calls  calls
}

func (f *fakeTokens) DescribeParameters(_ context.Context, path string) ([]state.Parameter, error) {
	f.calls.add("DescribeParameters", path)
	return nil, nil
}

func (f *fakeTokens) PutParameter(_ context.Context, in state.PutParameterInput) (int64, error) {
	f.calls.add("PutParameter", in.Name, in.Type, in.KeyID) // never the value
	f.params[in.Name] = in
	return 1, nil
}

func (f *fakeTokens) DeleteParameter(_ context.Context, name string) error {
	f.calls.add("DeleteParameter", name)
	delete(f.params, name)
	return nil
}

// fakeMinter mints the token it holds and records revocations.
type fakeMinter struct {
	tok     githubapp.Token
	revoked []string
}

func (m *fakeMinter) CreateToken(context.Context, githubapp.TokenRequest) (githubapp.Token, error) {
	return m.tok, nil
}

func (m *fakeMinter) RevokeMinted(_ context.Context, tok githubapp.Token) error {
	m.revoked = append(m.revoked, tok.Value)
	return nil
}

var tokenNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func tokenRes(scope string) *Resource {
	r := res(TypeToken, addrToken("sb", "acme"), "/sandbox/sb/github-token", "name", "/sandbox/sb/github-token",
		"type", "SecureString", "key_id", "alias/kmt-github-token-sb", "owner", "acme", "installation_id", "7",
		"repositories", "app", "permissions", "contents=read", "scope", scope, "value", "(minted at apply)")
	r.Sandbox = "sb"
	r.Extra = tokenSpec{Sandbox: "sb", Owner: "acme", InstallationID: 7, Repositories: []string{"app"},
		Permissions: map[string]string{"contents": "read"}, Scope: scope, Parameter: r.ID, KeyAlias: "alias/kmt-github-token-sb"}
	return r
}

func liveTokenRes(owner, scope string, expires time.Time) *Resource {
	r := tokenRes(scope)
	r.Extra = sandboxtoken.Meta{Owner: owner, Scope: scope, ExpiresAt: expires}
	return r
}

func TestTokenDiff(t *testing.T) {
	want := tokenRes("s1")
	later := tokenNow.Add(time.Hour)
	noMeta := tokenRes("s1")
	noMeta.Extra = nil
	k := tokenKind{}
	for _, tc := range []diffCase{
		{"missing", want, nil, Create, "token parameter missing"},
		{"fresh, same scope", want, liveTokenRes("acme", "s1", later), NoOp, ""},
		{"metadata missing", want, noMeta, Update, "scope unknown"},
		{"scope changed", want, liveTokenRes("acme", "s0", later), Update, "scope changed"},
		{"another owner's token", want, liveTokenRes("other", "s1", later), Replace, "other's token is revoked"},
		{"expires within the margin", want, liveTokenRes("acme", "s1", tokenNow.Add(5*time.Minute)), Update, reasonTokenExpired},
		{"orphan", nil, liveTokenRes("acme", "s1", later), Delete, "orphaned"},
	} {
		rt := fakeRuntime(nil)
		rt.Now = func() time.Time { return tokenNow }
		act, why := k.Diff(rt, tc.desired, tc.live)
		if act != tc.act || !strings.Contains(why, tc.why) {
			t.Errorf("%s: Diff = %s %q, want %s containing %q", tc.name, act, why, tc.act, tc.why)
		}
	}
}

func TestTokenApply(t *testing.T) {
	ctx := context.Background()
	const secret = "ghs_walkthroughSecret0123456789"
	grant := githubapp.Token{Value: secret, ExpiresAt: tokenNow.Add(time.Hour), InstallationID: 7,
		Repositories: []string{"app"}, Permissions: map[string]string{"contents": "read"}}
	wider := grant
	wider.Repositories = []string{"app", "infra"}
	for _, tc := range []struct {
		name    string
		tok     githubapp.Token
		want    string
		fails   string
		revoked int
	}{
		{"create", grant, "PutParameter /sandbox/sb/github-token SecureString alias/kmt-github-token-sb", "", 0},
		{"wider grant than asked: revoked, not stored", wider, "", "repositories granted unasked: infra", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTokens{params: map[string]state.PutParameterInput{}}
			m := &fakeMinter{tok: tc.tok}
			rt := fakeRuntime(f)
			rt.Now = func() time.Time { return tokenNow }
			rt.Minter = func(context.Context) (Minter, error) { return m, nil }
			_, err := tokenKind{}.Apply(ctx, rt, changeFor(tokenRes("s1"), nil, Create))
			if f.calls.String() != tc.want || len(m.revoked) != tc.revoked {
				t.Fatalf("Apply: calls %q want %q, revoked %d want %d", f.calls, tc.want, len(m.revoked), tc.revoked)
			}
			if tc.fails != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fails) || strings.Contains(err.Error(), secret) {
					t.Fatalf("Apply error %v, want one containing %q and not the token", err, tc.fails)
				}
				return
			}
			p := f.params["/sandbox/sb/github-token"]
			if err != nil || p.Value != secret || strings.Contains(p.Description, secret) {
				t.Fatalf("Apply: %v, written %+v", err, p)
			}
			meta, err := sandboxtoken.DecodeMeta(p.Description)
			if err != nil || meta.Scope != "s1" || meta.Owner != "acme" || !meta.ExpiresAt.Equal(grant.ExpiresAt) {
				t.Fatalf("metadata written: %+v (%v)", meta, err)
			}
		})
	}
}
