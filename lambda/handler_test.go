package lambda_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/lambda"
)

var contentsWrite = map[string]string{"contents": "write", "metadata": "read"}

func TestSeedPayloadRefreshesTheToken(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a", "repo-b", "repo-c"}, nil)
	sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a", "repo-b"}, Permissions: contentsWrite})
	o := sb.payload.Owners[0]
	before := f.seedOld(o.Parameter)
	f.rec.Reset()
	var logs lineBuffer
	h := f.handler(&logs, nil)

	res, err := h.Handle(context.Background(), sb.seedInput())
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	got := f.assertFresh(sb, o, before)

	if len(res.Tokens) != 1 || res.Tokens[0].Parameter != o.Parameter || res.Tokens[0].TokenSHA != sha12(got.Value) {
		t.Errorf("result %+v", res)
	}
	// The same write km apply does: SecureString, the sandbox key alias
	// (the seed payload has none: derived from the prefix), Overwrite, tags.
	puts := f.rec.Operation("PutParameter")
	if len(puts) != 1 {
		t.Fatalf("%d PutParameter calls, want 1", len(puts))
	}
	in := puts[0].Input.(*ssm.PutParameterInput)
	if in.Type != "SecureString" || aws.ToString(in.KeyId) != names.New(f.prefix).KeyAlias(sb.id) || !aws.ToBool(in.Overwrite) {
		t.Errorf("PutParameter Type %s KeyId %s Overwrite %v", in.Type, aws.ToString(in.KeyId), aws.ToBool(in.Overwrite))
	}
	if n := len(f.rec.Operation("AddTagsToResource")); n != 1 {
		t.Errorf("%d AddTagsToResource calls, want 1", n)
	}

	evs := logs.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d log events, want 1: %s", len(evs), logs.String())
	}
	ev := evs[0]
	want := map[string]any{
		"msg": "token_refreshed", "level": "INFO", "sandbox_id": sb.id, "owner": "my-org",
		"installation_id": float64(inst), "repositories": "repo-a,repo-b",
		"permissions": "contents=write,metadata=read", "token_sha": sha12(got.Value),
		"expires_at": got.Meta.ExpiresAt.UTC().Format(time.RFC3339), "parameter": o.Parameter,
	}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("log %s = %v, want %v", k, ev[k], v)
		}
	}
	if _, ok := ev["error"]; ok {
		t.Errorf("success event has an error field: %v", ev["error"])
	}
	f.assertNoSecrets("log", logs.String())
	b, _ := json.Marshal(res)
	f.assertNoSecrets("result", string(b))
}

func TestMultiOwnerSandboxRefreshesEveryOwner(t *testing.T) {
	f := newFixture(t)
	org := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a", "repo-b"}, nil)
	user := f.sim.AddInstallation("my-user", "User", nil, nil)
	sb := f.newSandbox(
		sandboxtoken.Owner{Owner: "my-org", InstallationID: org, Repositories: []string{"repo-b"}, Permissions: contentsWrite},
		sandboxtoken.Owner{Owner: "my-user", InstallationID: user, Permissions: map[string]string{"contents": "read", "metadata": "read"}},
	)
	var befores []stored
	for _, o := range sb.payload.Owners {
		befores = append(befores, f.seedOld(o.Parameter))
	}
	var logs lineBuffer
	res, err := f.handler(&logs, nil).Handle(context.Background(), sb.input())
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	for i, o := range sb.payload.Owners {
		f.assertFresh(sb, o, befores[i])
	}
	if sb.payload.Owners[1].Parameter != "/sandbox/"+sb.id+"/github-token-my-user" {
		t.Errorf("second owner parameter %s", sb.payload.Owners[1].Parameter)
	}
	if len(res.Tokens) != 2 {
		t.Errorf("result has %d tokens, want 2", len(res.Tokens))
	}
	if n := f.sim.CountRequests("POST", "/app/installations/"); n != 2 {
		t.Errorf("%d token requests, want one per owner (2)", n)
	}
	evs := logs.events(t)
	if len(evs) != 2 || evs[0]["owner"] != "my-org" || evs[1]["owner"] != "my-user" || evs[1]["repositories"] != "*" {
		t.Errorf("log events %v", evs)
	}
}

// TestGitHubRefusalsFailWithoutTouchingTheToken: 401, 403 suspended, 404 and
// 422 fail the invocation with the cause, the sandbox and the owner, and the
// previous token stays.
func TestGitHubRefusalsFailWithoutTouchingTheToken(t *testing.T) {
	tests := []struct {
		name     string
		breakIt  func(f *fixture, inst int64)
		perms    map[string]string
		granted  map[string]string // the installation's permissions (nil: githubsim's default)
		kind     error
		wantText []string
	}{
		{
			name:     "repository left the installation",
			breakIt:  func(f *fixture, inst int64) { f.sim.RemoveRepoFromInstallation(inst, "repo-b") },
			kind:     githubapp.ErrUnprocessable,
			wantText: []string{"a repository left the installation", "HTTP 422"},
		},
		{
			name:     "permission no longer granted",
			breakIt:  func(*fixture, int64) {},
			perms:    contentsWrite,
			granted:  map[string]string{"contents": "read", "metadata": "read"},
			kind:     githubapp.ErrUnprocessable,
			wantText: []string{"permission is no longer granted", "HTTP 422"},
		},
		{
			name:     "installation suspended",
			breakIt:  func(f *fixture, inst int64) { f.sim.SuspendInstallation(inst) },
			kind:     githubapp.ErrSuspended,
			wantText: []string{"suspended", "HTTP 403"},
		},
		{
			name:     "installation removed",
			breakIt:  func(f *fixture, inst int64) { f.sim.RemoveInstallation(inst) },
			kind:     githubapp.ErrInstallationNotFound,
			wantText: []string{"uninstalled", "HTTP 404"},
		},
		{
			name:     "App key not accepted",
			breakIt:  func(f *fixture, _ int64) { f.putKey(foreignKey(t)) },
			kind:     githubapp.ErrUnauthorized,
			wantText: []string{"JWT", "HTTP 401"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a", "repo-b"}, tc.granted)
			perms := tc.perms
			if perms == nil {
				perms = contentsWrite
			}
			sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a", "repo-b"}, Permissions: perms})
			o := sb.payload.Owners[0]
			before := f.seedOld(o.Parameter)
			tc.breakIt(f, inst)
			var logs lineBuffer

			_, err := f.handler(&logs, nil).Handle(context.Background(), sb.input())
			if err == nil {
				t.Fatal("Handle succeeded")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %v does not match %v", err, tc.kind)
			}
			for _, s := range append([]string{sb.id, "my-org", "previous token"}, tc.wantText...) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not mention %q: %v", s, err)
				}
			}
			if after := f.read(o.Parameter); after.Value != before.Value || after.Version != before.Version {
				t.Errorf("the previous token was touched (version %d → %d)", before.Version, after.Version)
			}
			evs := logs.events(t)
			if len(evs) != 1 || evs[0]["msg"] != "token_refresh_failed" || evs[0]["sandbox_id"] != sb.id || evs[0]["owner"] != "my-org" {
				t.Fatalf("log events %v", evs)
			}
			if e, _ := evs[0]["error"].(string); !strings.Contains(e, tc.wantText[0]) {
				t.Errorf("log error %q does not say why (%q)", e, tc.wantText[0])
			}
			f.assertNoSecrets("error", err.Error())
			f.assertNoSecrets("log", logs.String())
		})
	}
}

// TestTransientFailuresAreRetried: 5xx, 429 and secondary rate limits are
// retried inside the invocation, honouring Retry-After.
func TestTransientFailuresAreRetried(t *testing.T) {
	tests := []struct {
		name       string
		statuses   []int
		retryAfter time.Duration
		wantWaits  []time.Duration // exact waits; nil: only count them
	}{
		{name: "502 then 503 then 201", statuses: []int{502, 503}},
		{name: "429 with Retry-After", statuses: []int{429}, retryAfter: 7 * time.Second, wantWaits: []time.Duration{7 * time.Second}},
		{name: "secondary rate limit", statuses: []int{githubsim.StatusSecondaryRateLimit, githubsim.StatusSecondaryRateLimit}, retryAfter: 3 * time.Second,
			wantWaits: []time.Duration{3 * time.Second, 3 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
			sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
			o := sb.payload.Owners[0]
			before := f.seedOld(o.Parameter)
			f.sim.FailNextWithRetryAfter("POST", "/app/installations/", max(tc.retryAfter, time.Second), tc.statuses...)
			var sleeps sleepRecorder
			var logs lineBuffer

			if _, err := f.handler(&logs, &sleeps).Handle(context.Background(), sb.input()); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			f.assertFresh(sb, o, before)
			if n := f.sim.CountRequests("POST", "/app/installations/"); n != len(tc.statuses)+1 {
				t.Errorf("%d token requests, want %d", n, len(tc.statuses)+1)
			}
			waits := sleeps.recorded()
			if len(waits) != len(tc.statuses) {
				t.Errorf("waits %v, want %d", waits, len(tc.statuses))
			}
			for i, w := range tc.wantWaits {
				if i < len(waits) && waits[i] != w {
					t.Errorf("wait %d = %s, want %s (Retry-After)", i, waits[i], w)
				}
			}
			if evs := logs.events(t); len(evs) != 1 || evs[0]["msg"] != "token_refreshed" {
				t.Errorf("log events %v", evs)
			}
		})
	}
}

// TestOutageBeyondTheDeadlineFails: when GitHub keeps failing, retries stop
// at the invocation's deadline and the invocation fails, token untouched.
func TestOutageBeyondTheDeadlineFails(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
	sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
	o := sb.payload.Owners[0]
	before := f.seedOld(o.Parameter)
	f.sim.FailNext("POST", "/app/installations/", 503, 503, 503, 503, 503, 503, 503, 503, 503, 503)
	sleeps := sleepRecorder{budget: 5 * time.Second} // the invocation's remaining time
	var logs lineBuffer

	_, err := f.handler(&logs, &sleeps).Handle(context.Background(), sb.input())
	if !errors.Is(err, githubapp.ErrServer) {
		t.Fatalf("error %v, want a GitHub server error", err)
	}
	if after := f.read(o.Parameter); after.Version != before.Version {
		t.Error("the previous token was replaced")
	}
	if evs := logs.events(t); len(evs) != 1 || evs[0]["msg"] != "token_refresh_failed" {
		t.Errorf("log events %v", evs)
	}
}

// fakeMinter returns a fixed answer: githubsim always grants what it is
// asked, so a wrong grant can only be shown with a fake.
type fakeMinter struct{ tok githubapp.Token }

func (m fakeMinter) CreateToken(context.Context, githubapp.TokenRequest) (githubapp.Token, error) {
	return m.tok, nil
}

func TestUnverifiedGrantIsNeverStored(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	good := githubapp.Token{Value: "ghs_fakeFakeFakeFakeFakeFakeFake0001", ExpiresAt: now.Add(time.Hour),
		Repositories: []string{"repo-a"}, Permissions: map[string]string{"contents": "write", "metadata": "read"}}
	tests := []struct {
		name string
		edit func(*githubapp.Token)
		want string
	}{
		{"empty token", func(t *githubapp.Token) { t.Value = "" }, "empty token"},
		{"already expired", func(t *githubapp.Token) { t.ExpiresAt = now.Add(-time.Second) }, "not after now"},
		{"another repository", func(t *githubapp.Token) { t.Repositories = []string{"repo-a", "repo-z"} }, "repositories granted unasked: repo-z"},
		{"a repository missing", func(t *githubapp.Token) { t.Repositories = nil }, "repositories not granted: repo-a"},
		{"a lower permission", func(t *githubapp.Token) { t.Permissions = map[string]string{"contents": "read", "metadata": "read"} },
			"permission contents: asked write, granted read"},
		{"an extra permission", func(t *githubapp.Token) {
			t.Permissions = map[string]string{"contents": "write", "metadata": "read", "administration": "write"}
		}, "permission administration: granted write unasked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: 42, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
			o := sb.payload.Owners[0]
			before := f.seedOld(o.Parameter)
			tok := good
			tc.edit(&tok)
			var logs lineBuffer
			h := f.handler(&logs, nil)
			h.Now = func() time.Time { return now }
			h.NewGitHub = func(string, *rsa.PrivateKey) lambda.Minter { return fakeMinter{tok} }

			_, err := h.Handle(context.Background(), sb.input())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			if after := f.read(o.Parameter); after.Value != before.Value || after.Version != before.Version {
				t.Error("an unverified token replaced the previous one")
			}
			if strings.Contains(err.Error(), good.Value) || strings.Contains(logs.String(), good.Value) {
				t.Error("the token value leaked into the error or the log")
			}
			evs := logs.events(t)
			if len(evs) != 1 || evs[0]["msg"] != "token_refresh_failed" {
				t.Fatalf("log events %v", evs)
			}
			// A token that was minted but not stored is revoked at once.
			wantRevokes := 1
			if tok.Value == "" {
				wantRevokes = 0
			}
			if n := f.sim.CountRequests("DELETE", "/installation/token"); n != wantRevokes {
				t.Errorf("%d revocations of the unverified token, want %d", n, wantRevokes)
			}
		})
	}
	t.Run("the correct grant is stored", func(t *testing.T) {
		f := newFixture(t)
		sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: 42, Repositories: []string{"REPO-A"}, Permissions: contentsWrite})
		h := f.handler(&lineBuffer{}, nil)
		h.Now = func() time.Time { return now }
		h.NewGitHub = func(string, *rsa.PrivateKey) lambda.Minter { return fakeMinter{good} }
		f.seedOld(sb.payload.Owners[0].Parameter)
		if _, err := h.Handle(context.Background(), sb.input()); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if got := f.read(sb.payload.Owners[0].Parameter); got.Value != good.Value {
			t.Error("the verified token was not stored")
		}
	})
}

// TestRotatedKeyTakesEffectAtTheNextInvocation: a warm handler that cached
// the old key signs with the new one as soon as SSM holds it, and reads the
// PEM only when its version changed.
func TestRotatedKeyTakesEffectAtTheNextInvocation(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("my-org", "Organization", []string{"repo-a"}, nil)
	sb := f.newSandbox(sandboxtoken.Owner{Owner: "my-org", InstallationID: inst, Repositories: []string{"repo-a"}, Permissions: contentsWrite})
	h := f.handler(&lineBuffer{}, nil)
	ctx := context.Background()
	f.seedOld(sb.payload.Owners[0].Parameter)
	decrypting := func() int {
		n := 0
		for _, c := range f.rec.Operation("GetParameter") {
			if in := c.Input.(*ssm.GetParameterInput); aws.ToString(in.Name) == names.New(f.prefix).PrivateKeyParam() && aws.ToBool(in.WithDecryption) {
				n++
			}
		}
		return n
	}

	if _, err := h.Handle(ctx, sb.input()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(ctx, sb.input()); err != nil {
		t.Fatal(err)
	}
	if n := decrypting(); n != 1 {
		t.Errorf("PEM read %d times over two invocations with one key version, want 1", n)
	}

	newPEM, err := f.sim.AddAppKey() // GitHub accepts both keys now
	if err != nil {
		t.Fatal(err)
	}
	f.putKey(newPEM) // km apply rotates the key in SSM
	if err := f.sim.RemoveAppKey(f.pem); err != nil {
		t.Fatal(err)
	}
	var logs lineBuffer
	h.Logger = logs.logger()
	before := f.read(sb.payload.Owners[0].Parameter)
	if _, err := h.Handle(ctx, sb.input()); err != nil {
		t.Fatalf("the invocation after the rotation did not sign with the new key: %v", err)
	}
	f.assertFresh(sb, sb.payload.Owners[0], before)
	if n := decrypting(); n != 2 {
		t.Errorf("PEM read %d times in total, want 2 (once per key version)", n)
	}
	f.assertNoSecrets("log", logs.String(), newPEM)
}

func TestMissingAppConfigurationFailsEveryOwner(t *testing.T) {
	f := newFixture(t)
	sb := f.newSandbox(
		sandboxtoken.Owner{Owner: "my-org", InstallationID: 1, Permissions: contentsWrite},
		sandboxtoken.Owner{Owner: "my-user", InstallationID: 2, Permissions: contentsWrite},
	)
	var logs lineBuffer
	h := f.handler(&logs, nil)
	h.Prefix = "t" + uniq(t) // nothing configured under this prefix
	sb.payload.Prefix = h.Prefix
	sb.payload.KeyAlias = names.New(h.Prefix).KeyAlias(sb.id)
	f.prefix = h.Prefix // the parameters km apply wrote for this prefix
	for _, o := range sb.payload.Owners {
		f.seedOld(o.Parameter)
	}

	_, err := h.Handle(context.Background(), sb.input())
	if err == nil || !strings.Contains(err.Error(), names.New(h.Prefix).AppClientIDParam()) || !strings.Contains(err.Error(), sb.id) {
		t.Fatalf("error %v, want it to name the client ID parameter and the sandbox", err)
	}
	evs := logs.events(t)
	if len(evs) != 2 || evs[0]["msg"] != "token_refresh_failed" || evs[1]["owner"] != "my-user" {
		t.Errorf("log events %v, want one failure per owner", evs)
	}
	if n := f.sim.CountRequests("", "/"); n != 0 {
		t.Errorf("%d GitHub requests without credentials", n)
	}
}

func TestPayloadGuards(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"not JSON", `{"sandbox_id":`, "not valid JSON"},
		{"no sandbox", `{"installation_id": 1}`, "no sandbox_id"},
		{"no installation", `{"sandbox_id": "sb-x"}`, "neither owners nor installation_id"},
		{"other prefix", `{"sandbox_id": "sb-x", "prefix": "other", "installation_id": 1}`, `prefix "other"`},
		{"parameter of another sandbox", `{"sandbox_id": "sb-x", "owners": [{"owner": "o", "installation_id": 1, "parameter": "/sandbox/sb-y/github-token"}]}`,
			"that owner's token parameters are /sandbox/sb-x/github-token and /sandbox/sb-x/github-token-o"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs lineBuffer
			_, err := f.handler(&logs, nil).Handle(context.Background(), json.RawMessage(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			msg := "token_refresh_failed" // undecodable: not a payload at all
			if errors.Is(err, lambda.ErrRefused) {
				msg = "token_refresh_refused"
			}
			if evs := logs.events(t); len(evs) != 1 || evs[0]["msg"] != msg {
				t.Errorf("log events %v", evs)
			}
		})
	}
	if n := f.sim.CountRequests("", "/"); n != 0 {
		t.Errorf("%d GitHub requests for refused payloads", n)
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want lambda.Config
		err  string
	}{
		{"km apply's variables", map[string]string{"KM_PREFIX": "km", "KM_REGION": "eu-west-1", "KM_GITHUB_API_URL": "https://ghe.example/api/v3"},
			lambda.Config{Prefix: "km", Region: "eu-west-1", APIURL: "https://ghe.example/api/v3"}, ""},
		{"AWS_REGION fallback", map[string]string{"KM_PREFIX": "km", "AWS_REGION": "us-east-2", "KM_GITHUB_API_URL": "https://api.github.com"},
			lambda.Config{Prefix: "km", Region: "us-east-2", APIURL: "https://api.github.com"}, ""},
		{"KM_REGION wins", map[string]string{"KM_PREFIX": "km", "KM_REGION": "eu-west-1", "AWS_REGION": "us-east-2", "KM_GITHUB_API_URL": "https://api.github.com"},
			lambda.Config{Prefix: "km", Region: "eu-west-1", APIURL: "https://api.github.com"}, ""},
		{"nothing", map[string]string{}, lambda.Config{}, "KM_PREFIX, KM_REGION (or AWS_REGION), KM_GITHUB_API_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lambda.ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "km apply") {
					t.Fatalf("error %v, want %q and the fix", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
