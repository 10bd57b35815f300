package githubsim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/klankermaker/km/internal/githubsim"
)

// noRedirect is an HTTP client that returns redirects instead of following.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// submitManifest posts the manifest form like the browser would and returns
// the redirect target.
func submitManifest(t *testing.T, f *fixture, page, manifest, state string) *url.URL {
	t.Helper()
	res, err := noRedirect.PostForm(f.sim.URL+page+"?state="+url.QueryEscape(state), url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("POST %s: status %d, want 302", page, res.StatusCode)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestManifestFlow(t *testing.T) {
	f := newFixture(t, githubsim.WithKeyBits(2048))
	manifest := `{"name":"km-sandbox-tokens","url":"https://example.com/km","public":false,
		"redirect_url":"http://127.0.0.1:9/callback?keep=1",
		"default_permissions":{"contents":"write","metadata":"read"},"default_events":[]}`
	loc := submitManifest(t, f, "/settings/apps/new", manifest, "st@te 1")
	if loc.Host != "127.0.0.1:9" || loc.Path != "/callback" || loc.Query().Get("keep") != "1" || loc.Query().Get("state") != "st@te 1" {
		t.Fatalf("redirect to %s", loc)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatal("no code in the redirect")
	}
	got := f.sim.Manifests()
	if len(got) != 1 || got[0]["name"] != "km-sandbox-tokens" || got[0]["public"] != false {
		t.Fatalf("Manifests() = %v", got)
	}

	res := f.call("POST", "/app-manifests/"+code+"/conversions", "", nil)
	wantStatus(t, "conversion", res, http.StatusCreated)
	conv := res.object(t)
	app := f.sim.App()
	if conv["id"] != float64(app.ID) || conv["slug"] != "km-sandbox-tokens" || conv["client_id"] != app.ClientID || conv["name"] != "km-sandbox-tokens" {
		t.Errorf("conversion %v does not describe the App %+v", conv, app)
	}
	if conv["owner"].(map[string]any)["login"] != "octocat" || app.Owner != "octocat" {
		t.Errorf("owner %v / %s, want octocat", conv["owner"], app.Owner)
	}
	if s, _ := conv["client_secret"].(string); len(s) < 20 {
		t.Errorf("client_secret %q", s)
	}
	if _, has := conv["webhook_secret"]; !has {
		t.Error("webhook_secret missing (null is fine)")
	}
	if perms := conv["permissions"].(map[string]any); perms["contents"] != "write" {
		t.Errorf("permissions %v", perms)
	}
	pem, _ := conv["pem"].(string)
	if !strings.Contains(pem, "BEGIN RSA PRIVATE KEY") {
		t.Fatalf("pem %.40q", pem)
	}
	if bits := parseKey(t, []byte(pem)).N.BitLen(); bits != 2048 {
		t.Errorf("App key has %d bits, want 2048", bits)
	}
	now := f.clock.Now()
	tok := signJWT(t, []byte(pem), jwt.MapClaims{"iss": app.ClientID, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	wantStatus(t, "GET /app with the converted key", f.call("GET", "/app", bearer(tok), nil), 200)

	wantStatus(t, "second conversion", f.call("POST", "/app-manifests/"+code+"/conversions", "", nil), 404)
	wantStatus(t, "unknown code", f.call("POST", "/app-manifests/nope/conversions", "", nil), 404)

	// Codes expire after an hour.
	loc = submitManifest(t, f, "/settings/apps/new", manifest, "s2")
	f.clock.Advance(time.Hour)
	wantStatus(t, "expired code", f.call("POST", "/app-manifests/"+loc.Query().Get("code")+"/conversions", "", nil), 404)
}

func TestManifestFlowOrganization(t *testing.T) {
	f := newFixture(t)
	loc := submitManifest(t, f, "/organizations/acme/settings/apps/new", `{"name":"Org App","url":"https://e.example","redirect_url":"http://localhost:1/cb"}`, "x")
	conv := f.call("POST", "/app-manifests/"+loc.Query().Get("code")+"/conversions", "", nil).object(t)
	owner := conv["owner"].(map[string]any)
	if owner["login"] != "acme" || owner["type"] != "Organization" || conv["slug"] != "org-app" {
		t.Errorf("org app: owner %v slug %v", owner, conv["slug"])
	}
}

func TestManifestGETAndErrors(t *testing.T) {
	f := newFixture(t)
	q := url.Values{"manifest": {`{"name":"via get","url":"https://e.example","redirect_url":"http://localhost:1/cb"}`}, "state": {"g"}}
	res, err := noRedirect.Get(f.sim.URL + "/settings/apps/new?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "state=g") {
		t.Errorf("GET manifest: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for _, m := range []string{"", "not json", `{"name":"no url"}`} {
		res, err := noRedirect.PostForm(f.sim.URL+"/settings/apps/new", url.Values{"manifest": {m}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("manifest %q: status %d, want 422", m, res.StatusCode)
		}
	}
}
