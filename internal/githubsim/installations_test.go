package githubsim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/klankermaker/km/internal/githubsim"
)

// links parses a Link header into rel -> page number.
func links(t *testing.T, header, wantHost string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if header == "" {
		return out
	}
	re := regexp.MustCompile(`^<([^>]+)>; rel="([a-z]+)"$`)
	for _, part := range strings.Split(header, ", ") {
		m := re.FindStringSubmatch(part)
		if m == nil {
			t.Fatalf("malformed Link part %q in %q", part, header)
		}
		u, err := url.Parse(m[1])
		if err != nil {
			t.Fatal(err)
		}
		if u.Host != wantHost || u.Path != "/app/installations" {
			t.Errorf("Link %s: host/path %s%s, want %s/app/installations", m[2], u.Host, u.Path, wantHost)
		}
		out[m[2]] = u.Query().Get("page") + "/" + u.Query().Get("per_page")
	}
	return out
}

func TestListInstallationsPagination(t *testing.T) {
	f := newFixture(t)
	var want []int64
	for i := range 42 {
		typ := "User"
		if i%2 == 1 {
			typ = "Organization"
		}
		want = append(want, f.sim.AddInstallation(fmt.Sprintf("acct-%02d", i), typ, nil, nil))
	}
	host := strings.TrimPrefix(f.sim.URL, "http://")

	tests := []struct {
		query string
		count int
		links map[string]string
	}{
		{"", 30, map[string]string{"next": "2/", "last": "2/"}},
		{"?page=2", 12, map[string]string{"prev": "1/", "first": "1/"}},
		{"?per_page=10", 10, map[string]string{"next": "2/10", "last": "5/10"}},
		{"?per_page=10&page=3", 10, map[string]string{"prev": "2/10", "next": "4/10", "last": "5/10", "first": "1/10"}},
		{"?per_page=10&page=5", 2, map[string]string{"prev": "4/10", "first": "1/10"}},
		{"?per_page=1000", 42, map[string]string{}},
		{"?per_page=10&page=9", 0, map[string]string{"prev": "5/10", "first": "1/10"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := f.call("GET", "/app/installations"+tt.query, bearer(f.jwt()), nil)
			wantStatus(t, "list", res, 200)
			if got := len(res.array(t)); got != tt.count {
				t.Errorf("%d installations, want %d", got, tt.count)
			}
			got := links(t, res.Header.Get("Link"), host)
			if fmt.Sprint(got) != fmt.Sprint(tt.links) {
				t.Errorf("Link %q parsed as %v, want %v", res.Header.Get("Link"), got, tt.links)
			}
		})
	}

	t.Run("links use the request host", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.sim.URL+"/app/installations?per_page=20", nil)
		req.Host = "api.example.test"
		req.Header.Set("Authorization", bearer(f.jwt()))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := links(t, res.Header.Get("Link"), "api.example.test")
		if got["next"] != "2/20" || got["last"] != "3/20" {
			t.Errorf("links %v", got)
		}
	})

	t.Run("go-github follows the links", func(t *testing.T) {
		gh := ghClient(t, f.sim.URL, f.jwt())
		var ids []int64
		opt := &github.ListOptions{PerPage: 7}
		for {
			page, resp, err := gh.Apps.ListInstallations(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range page {
				ids = append(ids, in.GetID())
			}
			if resp.NextPage == 0 {
				if resp.LastPage != 0 || resp.PrevPage != 5 || resp.FirstPage != 1 {
					t.Errorf("last page: prev %d first %d last %d", resp.PrevPage, resp.FirstPage, resp.LastPage)
				}
				break
			}
			opt.Page = resp.NextPage
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("ids %v, want %v", ids, want)
		}
	})
}

func TestPerPageMax(t *testing.T) {
	f := newFixture(t, githubsim.WithPerPageMax(5))
	for i := range 12 {
		f.sim.AddInstallation(fmt.Sprintf("u%d", i), "User", nil, nil)
	}
	res := f.call("GET", "/app/installations?per_page=50", bearer(f.jwt()), nil)
	if n := len(res.array(t)); n != 5 {
		t.Errorf("per_page=50 with max 5 gave %d", n)
	}
	if !strings.Contains(res.Header.Get("Link"), `page=3&per_page=50>; rel="last"`) {
		t.Errorf("Link %q", res.Header.Get("Link"))
	}
}

func ghClient(t *testing.T, base, tok string) *github.Client {
	t.Helper()
	gh, err := github.NewClient(nil).WithAuthToken(tok).WithEnterpriseURLs(base+"/", base+"/")
	if err != nil {
		t.Fatal(err)
	}
	// WithEnterpriseURLs appends /api/v3/; the simulator serves the API at
	// the root, like api.github.com.
	u, _ := url.Parse(base + "/")
	gh.BaseURL = u
	return gh
}

func TestInstallationLookups(t *testing.T) {
	f := newFixture(t)
	org := f.sim.AddInstallation("Acme", "Organization", []string{"api", "web"}, map[string]string{"contents": "write", "metadata": "read"})
	user := f.sim.AddInstallation("alice", "User", nil, nil)
	if err := f.sim.AddRepo("alice", "dotfiles"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		status int
		id     int64
	}{
		{"/orgs/acme/installation", 200, org},
		{"/orgs/ACME/installation", 200, org},
		{"/orgs/alice/installation", 404, 0},
		{"/orgs/nobody/installation", 404, 0},
		{"/users/alice/installation", 200, user},
		{"/users/Acme/installation", 200, org},
		{"/repos/acme/api/installation", 200, org},
		{"/repos/acme/secret/installation", 404, 0},
		{"/repos/alice/dotfiles/installation", 200, user},
		{path("/app/installations/%d", org), 200, org},
		{"/app/installations/999", 404, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := f.call("GET", tt.path, bearer(f.jwt()), nil)
			wantStatus(t, tt.path, res, tt.status)
			if tt.status != 200 {
				return
			}
			in := res.object(t)
			if in["id"] != float64(tt.id) || in["app_id"] != float64(f.app.ID) {
				t.Errorf("installation %v, want id %d app %d", in, tt.id, f.app.ID)
			}
		})
	}

	in := f.call("GET", path("/app/installations/%d", org), bearer(f.jwt()), nil).object(t)
	acct := in["account"].(map[string]any)
	if acct["login"] != "Acme" || acct["type"] != "Organization" || in["target_type"] != "Organization" || in["repository_selection"] != "selected" {
		t.Errorf("org installation %v", in)
	}
	if in["suspended_at"] != nil {
		t.Errorf("suspended_at %v before suspension", in["suspended_at"])
	}

	f.sim.SuspendInstallation(org)
	in = f.call("GET", path("/app/installations/%d", org), bearer(f.jwt()), nil).object(t)
	if in["suspended_at"] != "2025-03-01T12:00:00Z" || in["suspended_by"] == nil {
		t.Errorf("suspended installation: suspended_at %v suspended_by %v", in["suspended_at"], in["suspended_by"])
	}

	f.sim.RemoveInstallation(user)
	wantStatus(t, "removed installation", f.call("GET", path("/app/installations/%d", user), bearer(f.jwt()), nil), 404)
	wantStatus(t, "removed installation by user", f.call("GET", "/users/alice/installation", bearer(f.jwt()), nil), 404)
	if n := len(f.call("GET", "/app/installations", bearer(f.jwt()), nil).array(t)); n != 1 {
		t.Errorf("%d installations listed after removing one of two", n)
	}
	app := f.call("GET", "/app", bearer(f.jwt()), nil).object(t)
	if app["installations_count"] != float64(1) {
		t.Errorf("installations_count %v", app["installations_count"])
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	f.call("GET", "/app", bearer(f.jwt()), nil)
	res := f.call("GET", "/rate_limit", "", nil)
	wantStatus(t, "rate_limit", res, 200)
	core := res.object(t)["resources"].(map[string]any)["core"].(map[string]any)
	if core["limit"] != float64(5000) || core["used"] != float64(1) || core["remaining"] != float64(4999) {
		t.Errorf("core %v", core)
	}
	if res.Header.Get("X-RateLimit-Limit") != "5000" {
		t.Errorf("X-RateLimit-Limit %q", res.Header.Get("X-RateLimit-Limit"))
	}
}
