package githubapp

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubsim"

	"golang.org/x/time/rate"
)

// simEnv is a GitHub simulator with an App, and an App client for it whose
// retry waits are recorded instead of slept.
type simEnv struct {
	sim    *githubsim.Server
	app    githubsim.App
	pem    []byte
	client *Client
	sleeps *sleepRecorder
	// sent records every request the clients send, attempt by attempt. The
	// simulator's own log is appended after the response is written, so a
	// client can see the answer before the log has the request.
	sent *sentLog
	// secrets collects every token and key the test saw; no error may
	// contain any of them.
	secrets []string
}

func newSimEnv(t *testing.T, opts ...githubsim.Option) *simEnv {
	t.Helper()
	sim := githubsim.New(append([]githubsim.Option{githubsim.WithOpenAPIValidation()}, opts...)...)
	t.Cleanup(func() {
		for _, v := range sim.ValidationErrors() {
			t.Errorf("GitHub's OpenAPI description rejects an exchange: %s", v)
		}
		sim.Close()
	})
	app, pemBytes, err := sim.CreateApp("km-test")
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{sim: sim, app: app, pem: pemBytes, sleeps: &sleepRecorder{}, sent: &sentLog{}}
	e.client = e.appClient(t, pemBytes, nil)
	return e
}

func (e *simEnv) options() Options {
	return Options{APIURL: e.sim.URL, Sleep: e.sleeps.sleep, HTTPClient: &http.Client{Transport: e.sent}}
}

// sentLog is an http.RoundTripper that records requests on their way out.
type sentLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *sentLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (l *sentLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = nil
}

// matching returns the requests sent with method ("" for any) to a path
// starting with prefix.
func (l *sentLog) matching(method, prefix string) []*http.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*http.Request
	for _, r := range l.reqs {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.URL.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func (l *sentLog) count(method, prefix string) int { return len(l.matching(method, prefix)) }

func (e *simEnv) appClient(t *testing.T, pemBytes []byte, now func() time.Time) *Client {
	t.Helper()
	key, err := ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	e.secrets = append(e.secrets, string(pemBytes))
	return NewAppClient(AppAuth{ClientID: e.app.ClientID, Signer: NewRSASigner(key), Now: now}, e.options())
}

func (e *simEnv) mint(t *testing.T, req TokenRequest) Token {
	t.Helper()
	tok, err := e.client.CreateToken(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateToken(%+v): %v", req, err)
	}
	e.secrets = append(e.secrets, tok.Value)
	return tok
}

// assertClean fails if msg holds any secret the test has seen.
func (e *simEnv) assertClean(t *testing.T, msg string) {
	t.Helper()
	for _, s := range e.secrets {
		if strings.Contains(msg, s) {
			t.Errorf("message leaks a secret: %s", msg)
		}
		if strings.HasPrefix(s, "-----BEGIN") {
			assertNoKeyMaterial(t, msg, []byte(s))
		}
	}
	for _, p := range []string{"ghs_", "ghp_", "github_pat_", "-----BEGIN"} {
		if i := strings.Index(msg, p); i >= 0 && !strings.HasPrefix(msg[i+len(p):], "…(redacted)") {
			t.Errorf("message holds %q: %s", p, msg)
		}
	}
}

var contentsRW = map[string]string{"contents": "write", "metadata": "read"}

func TestSimTokenScopedAsRequested(t *testing.T) {
	e := newSimEnv(t)
	id := e.sim.AddInstallation("acme", "Organization", []string{"api", "web", "docs"}, contentsRW)

	tests := []struct {
		name      string
		repos     []string
		perms     map[string]string
		wantRepos []string
		wantPerms map[string]string
	}{
		{"two repos read", []string{"api", "web"}, map[string]string{"contents": "read", "metadata": "read"}, []string{"api", "web"}, map[string]string{"contents": "read", "metadata": "read"}},
		{"one repo write", []string{"docs"}, contentsRW, []string{"docs"}, contentsRW},
		{"all repos", nil, map[string]string{"contents": "read", "metadata": "read"}, nil, map[string]string{"contents": "read", "metadata": "read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := e.mint(t, TokenRequest{InstallationID: id, Repositories: tt.repos, Permissions: tt.perms})
			issued, ok := e.sim.LookupToken(tok.Value)
			if !ok {
				t.Fatal("the simulator did not issue this token")
			}
			if issued.InstallationID != id || issued.Account != "acme" {
				t.Errorf("token for installation %d (%s), want %d (acme)", issued.InstallationID, issued.Account, id)
			}
			if !slices.Equal(issued.Repositories, tt.wantRepos) || !slices.Equal(tok.Repositories, tt.wantRepos) {
				t.Errorf("repositories: issued %v, reported %v, want %v", issued.Repositories, tok.Repositories, tt.wantRepos)
			}
			if !maps.Equal(issued.Permissions, tt.wantPerms) || !maps.Equal(tok.Permissions, tt.wantPerms) {
				t.Errorf("permissions: issued %v, reported %v, want %v", issued.Permissions, tok.Permissions, tt.wantPerms)
			}
			if !tok.ExpiresAt.Equal(issued.ExpiresAt.Truncate(time.Second)) || tok.InstallationID != id {
				t.Errorf("Token = %+v, simulator says expires %v", tok, issued.ExpiresAt)
			}
			if d := time.Until(tok.ExpiresAt); d < 59*time.Minute || d > 61*time.Minute {
				t.Errorf("token lives %v, want about 1h", d)
			}
		})
	}

	got, err := e.client.GetApp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.app.ID || got.Slug != e.app.Slug || got.ClientID != e.app.ClientID || got.Owner != e.app.Owner || got.Name != e.app.Name {
		t.Errorf("GetApp = %+v, want %+v", got, e.app)
	}
	if got.Permissions["contents"] != "write" {
		t.Errorf("GetApp permissions = %v", got.Permissions)
	}
}

func TestSimErrorsAreTyped(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, e *simEnv, id int64) *Client // returns the client to mint with (nil: e.client)
		repos    []string
		perms    map[string]string
		wantKind error
		want     []string
	}{
		{
			name: "repository left the installation",
			setup: func(t *testing.T, e *simEnv, id int64) *Client {
				e.sim.RemoveRepoFromInstallation(id, "web")
				return nil
			},
			repos: []string{"api", "web"}, perms: contentsRW,
			wantKind: ErrUnprocessable,
			want:     []string{"installation", "(acme)", "a repository left the installation or a permission is no longer granted", "HTTP 422"},
		},
		{
			name:  "permission no longer granted",
			setup: func(t *testing.T, e *simEnv, id int64) *Client { return nil },
			repos: []string{"api"}, perms: map[string]string{"contents": "write", "issues": "write"},
			wantKind: ErrUnprocessable,
			want:     []string{"(acme)", "a repository left the installation or a permission is no longer granted"},
		},
		{
			name:  "suspended",
			setup: func(t *testing.T, e *simEnv, id int64) *Client { e.sim.SuspendInstallation(id); return nil },
			repos: []string{"api"}, perms: contentsRW,
			wantKind: ErrSuspended,
			want:     []string{"(acme)", "suspended", "unsuspend it in the settings of acme", "HTTP 403"},
		},
		{
			name:  "uninstalled",
			setup: func(t *testing.T, e *simEnv, id int64) *Client { e.sim.RemoveInstallation(id); return nil },
			repos: []string{"api"}, perms: contentsRW,
			wantKind: ErrInstallationNotFound,
			want:     []string{"(acme)", "the App was uninstalled from acme; reinstall it or run km configure github --discover --force", "HTTP 404"},
		},
		{
			name: "wrong private key",
			setup: func(t *testing.T, e *simEnv, id int64) *Client {
				return e.appClient(t, pkcs1PEM(t, newRSAKey(t)), nil)
			},
			repos: []string{"api"}, perms: contentsRW,
			wantKind: ErrUnauthorized,
			want:     []string{"(acme)", "GitHub rejected the App's JWT", "private key in SSM matches the App", "clock", "HTTP 401"},
		},
		{
			name: "key removed from the App after rotation",
			setup: func(t *testing.T, e *simEnv, id int64) *Client {
				newPEM, err := e.sim.AddAppKey()
				if err != nil {
					t.Fatal(err)
				}
				rotated := e.appClient(t, newPEM, nil)
				if _, err := rotated.CreateToken(context.Background(), TokenRequest{InstallationID: id, Repositories: []string{"api"}}); err != nil {
					t.Fatalf("the added key is refused: %v", err)
				}
				if err := e.sim.RemoveAppKey(e.pem); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			repos: []string{"api"}, perms: contentsRW,
			wantKind: ErrUnauthorized,
			want:     []string{"private key in SSM matches the App"},
		},
		{
			name: "clock 20 minutes slow",
			setup: func(t *testing.T, e *simEnv, id int64) *Client {
				return e.appClient(t, e.pem, func() time.Time { return time.Now().Add(-20 * time.Minute) })
			},
			repos: []string{"api"}, perms: contentsRW,
			wantKind: ErrUnauthorized,
			want:     []string{"clock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t)
			id := e.sim.AddInstallation("acme", "Organization", []string{"api", "web"}, contentsRW)
			// A token minted before the failure: it must not leak either.
			e.mint(t, TokenRequest{InstallationID: id, Repositories: []string{"api"}})
			c := tt.setup(t, e, id)
			if c == nil {
				c = e.client
			}
			_, err := c.CreateToken(context.Background(), TokenRequest{InstallationID: id, Account: "acme", Repositories: tt.repos, Permissions: tt.perms})
			if err == nil {
				t.Fatal("CreateToken succeeded")
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("errors.Is(err, %v) = false; err = %v", tt.wantKind, err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.InstallationID != id || ae.Account != "acme" {
				t.Errorf("APIError = %+v", ae)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			e.assertClean(t, msg)
			if n := e.sent.count("POST", "/app/installations/"); n != 2+countIf(tt.name == "key removed from the App after rotation") {
				t.Errorf("%d token requests: errors must not be retried", n)
			}
		})
	}
}

func countIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSimRetries(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(s *githubsim.Server)
		deadline  time.Duration
		wantErr   error
		wantCalls int
		wantWaits []time.Duration // exact; nil: only count
		numWaits  int
	}{
		{"502 then 503 then 201", func(s *githubsim.Server) { s.FailNext("POST", "/app/installations/", 502, 503) }, 0, nil, 3, nil, 2},
		{"secondary rate limit honours Retry-After", func(s *githubsim.Server) {
			s.FailNextWithRetryAfter("POST", "/app/installations/", 3*time.Second, githubsim.StatusSecondaryRateLimit)
		}, 0, nil, 2, []time.Duration{3 * time.Second}, 1},
		{"429 honours Retry-After", func(s *githubsim.Server) {
			s.FailNextWithRetryAfter("POST", "/app/installations/", 2*time.Second, 429)
		}, 0, nil, 2, []time.Duration{2 * time.Second}, 1},
		{"primary rate limit waits for the reset", func(s *githubsim.Server) {
			s.FailNextWithRetryAfter("POST", "/app/installations/", 5*time.Second, githubsim.StatusPrimaryRateLimit)
		}, 0, nil, 2, nil, 1},
		{"500 five times: ErrServer after 4 retries", func(s *githubsim.Server) {
			s.FailNext("POST", "/app/installations/", 500, 500, 500, 500, 500)
		}, 0, ErrServer, 5, nil, 4},
		{"Retry-After past the deadline: stop at once", func(s *githubsim.Server) {
			s.FailNextWithRetryAfter("POST", "/app/installations/", 30*time.Second, 429)
		}, 5 * time.Second, ErrRateLimited, 1, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t)
			id := e.sim.AddInstallation("acme", "Organization", []string{"api"}, contentsRW)
			tt.fail(e.sim)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			tok, err := e.client.CreateToken(ctx, TokenRequest{InstallationID: id, Account: "acme", Repositories: []string{"api"}, Permissions: contentsRW})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("CreateToken: %v", err)
				}
				if _, ok := e.sim.LookupToken(tok.Value); !ok {
					t.Error("token unknown to the simulator")
				}
				if n := len(e.sim.Tokens()); n != 1 {
					t.Errorf("%d tokens issued, want 1", n)
				}
			} else {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				e.assertClean(t, err.Error())
			}
			if n := e.sent.count("POST", "/app/installations/"); n != tt.wantCalls {
				t.Errorf("%d requests, want %d", n, tt.wantCalls)
			}
			if len(e.sleeps.waits) != tt.numWaits {
				t.Errorf("waits %v, want %d", e.sleeps.waits, tt.numWaits)
			}
			if tt.wantWaits != nil && !slices.Equal(e.sleeps.waits, tt.wantWaits) {
				t.Errorf("waits %v, want %v", e.sleeps.waits, tt.wantWaits)
			}
			if tt.name == "primary rate limit waits for the reset" && len(e.sleeps.waits) == 1 {
				if w := e.sleeps.waits[0]; w < 3*time.Second || w > 6*time.Second {
					t.Errorf("waited %v for a reset 5 s away", w)
				}
			}
			if e.sim.PendingFailures() != 0 && tt.wantErr == nil {
				t.Errorf("%d injected failures left", e.sim.PendingFailures())
			}
		})
	}
}

func TestSimDiscoveryPages(t *testing.T) {
	e := newSimEnv(t, githubsim.WithPerPageMax(30))
	want := map[int64]string{}
	for i := 0; i < 42; i++ {
		login := "acct-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		typ := "User"
		if i%3 == 0 {
			typ = "Organization"
		}
		want[e.sim.AddInstallation(login, typ, nil, nil)] = login
	}
	var suspended int64
	for id := range want {
		suspended = id
		break
	}
	e.sim.SuspendInstallation(suspended)

	got, err := e.client.ListInstallations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 42 {
		t.Fatalf("%d installations, want 42", len(got))
	}
	for _, in := range got {
		if want[in.ID] != in.Account {
			t.Errorf("installation %d: account %q, want %q", in.ID, in.Account, want[in.ID])
		}
		if in.AccountType != "User" && in.AccountType != "Organization" {
			t.Errorf("installation %d: account type %q", in.ID, in.AccountType)
		}
		if in.AppSlug != e.app.Slug || in.RepositorySelection != "all" {
			t.Errorf("installation %+v", in)
		}
		if in.Suspended() != (in.ID == suspended) {
			t.Errorf("installation %d: suspended = %v", in.ID, in.Suspended())
		}
	}
	reqs := e.sent.matching("GET", "/app/installations")
	if len(reqs) != 2 {
		t.Fatalf("%d list requests, want 2 pages", len(reqs))
	}
	for _, r := range reqs {
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("request %s does not ask per_page=100", r.URL)
		}
	}

	in, err := e.client.GetInstallation(context.Background(), suspended)
	if err != nil || in.Account != want[suspended] || !in.Suspended() {
		t.Errorf("GetInstallation = %+v, %v", in, err)
	}
	e.sim.RemoveInstallation(suspended)
	_, err = e.client.GetInstallation(context.Background(), suspended)
	if !errors.Is(err, ErrInstallationNotFound) || !strings.Contains(err.Error(), "--discover --force") {
		t.Errorf("GetInstallation(removed) = %v, want ErrInstallationNotFound with the fix", err)
	}
}

func TestSimRevoke(t *testing.T) {
	e := newSimEnv(t)
	id := e.sim.AddInstallation("acme", "User", []string{"api"}, contentsRW)
	tok := e.mint(t, TokenRequest{InstallationID: id, Repositories: []string{"api"}})
	other := e.mint(t, TokenRequest{InstallationID: id, Repositories: []string{"api"}})

	tc := NewTokenClient(tok.Value, e.options())
	if err := tc.RevokeToken(context.Background()); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if issued, _ := e.sim.LookupToken(tok.Value); !issued.Revoked {
		t.Error("token not revoked")
	}
	if e.sim.TokenLive(tok.Value) || !e.sim.TokenLive(other.Value) {
		t.Error("revoking one token must revoke exactly that token")
	}
	// Already revoked (401) and unknown tokens are not errors.
	if err := tc.RevokeToken(context.Background()); err != nil {
		t.Errorf("second RevokeToken = %v, want nil", err)
	}
	if err := NewTokenClient("ghs_neverissued0000000000000000000000", e.options()).RevokeToken(context.Background()); err != nil {
		t.Errorf("RevokeToken of an unknown token = %v, want nil", err)
	}
	// A server failure is an error, and does not print the token.
	e.sim.FailNext("DELETE", "/installation/token", 500, 500, 500, 500, 500)
	err := NewTokenClient(other.Value, e.options()).RevokeToken(context.Background())
	if !errors.Is(err, ErrServer) {
		t.Fatalf("RevokeToken on 500s = %v, want ErrServer", err)
	}
	e.assertClean(t, err.Error())
}

func TestSimManifestConversion(t *testing.T) {
	e := newSimEnv(t)
	m := NewManifest("km-sandbox", "http://127.0.0.1:1/callback")
	js, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	// The browser's part: post the manifest form, follow nothing.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(ManifestFormURL(e.sim.URL, "my-org", "st4te"), url.Values{"manifest": {js}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("manifest form answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "st4te" {
		t.Errorf("state not passed back: %s", loc)
	}
	code := loc.Query().Get("code")

	anon := NewAnonymousClient(e.options())
	creds, err := anon.ConvertManifest(context.Background(), code)
	if err != nil {
		t.Fatalf("ConvertManifest: %v", err)
	}
	e.secrets = append(e.secrets, string(creds.PEM))
	if creds.Name != "km-sandbox" || creds.Owner != "my-org" || creds.ID == 0 || creds.ClientID == "" || creds.Slug == "" {
		t.Errorf("credentials %v", creds)
	}
	got := e.sim.Manifests()
	if len(got) != 1 || got[0]["public"] != true || got[0]["redirect_url"] != "http://127.0.0.1:1/callback" {
		t.Errorf("manifest received: %v", got)
	}
	// The new credentials work as the App.
	key, err := ParsePrivateKey(creds.PEM)
	if err != nil {
		t.Fatal(err)
	}
	app, err := NewAppClient(AppAuth{ClientID: creds.ClientID, Signer: NewRSASigner(key)}, e.options()).GetApp(context.Background())
	if err != nil || app.ID != creds.ID {
		t.Errorf("GetApp with the converted credentials = %+v, %v", app, err)
	}

	// The code is good once.
	_, err = anon.ConvertManifest(context.Background(), code)
	if err == nil || !strings.Contains(err.Error(), "run km github again") {
		t.Errorf("second conversion = %v, want advice to run km github again", err)
	}
	if err != nil {
		e.assertClean(t, err.Error())
	}
	if _, err := anon.ConvertManifest(context.Background(), "../app"); err == nil || e.sent.count("POST", "/app-manifests/") != 2 {
		t.Errorf("malformed code: %v (requests %d, want no new one)", err, e.sent.count("POST", "/app-manifests/"))
	}
}

// Mints wait on the App's budget: with room for two and no refill, the
// third waits, and under a deadline gives up before any request leaves.
func TestMintsWaitForTheBudget(t *testing.T) {
	e := newSimEnv(t)
	id := e.sim.AddInstallation("acme", "Organization", []string{"api"}, contentsRW)
	key, err := ParsePrivateKey(e.pem)
	if err != nil {
		t.Fatal(err)
	}
	o := e.options()
	o.Mints = rate.NewLimiter(rate.Limit(1e-6), 2)
	c := NewAppClient(AppAuth{ClientID: e.app.ClientID, Signer: NewRSASigner(key)}, o)
	req := TokenRequest{InstallationID: id, Repositories: []string{"api"}, Permissions: contentsRW}
	for i := range 2 {
		tok, err := c.CreateToken(context.Background(), req)
		if err != nil {
			t.Fatalf("mint %d within the budget: %v", i+1, err)
		}
		e.secrets = append(e.secrets, tok.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = c.CreateToken(ctx, req)
	if err == nil || !strings.Contains(err.Error(), "mint budget") || !strings.Contains(err.Error(), "github:mints") {
		t.Fatalf("third mint past the budget: %v; want an error naming the mint budget and its quota", err)
	}
	e.assertClean(t, err.Error())
	if n := e.sent.count(http.MethodPost, "/app/installations/"); n != 2 {
		t.Errorf("%d mint requests sent, want 2: the third must wait before sending", n)
	}
}
