package githubsim_test

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// specOperations lists "METHOD /path/{param}" for every operation of the
// embedded OpenAPI description.
func specOperations(t *testing.T) map[string]*regexp.Regexp {
	t.Helper()
	raw, err := os.ReadFile("testdata/api.github.com.apps-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\\\{[a-z_]+\\\}`)
	ops := map[string]*regexp.Regexp{}
	for p, item := range doc.Paths {
		re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(p), "[^/]+") + "$")
		for method := range item {
			if method != "parameters" {
				ops[strings.ToUpper(method)+" "+p] = re
			}
		}
	}
	return ops
}

// TestEveryOperationValidated drives every operation of the description to a
// successful answer with OpenAPI validation on; the fixture fails the test
// if any request or response did not match the description.
func TestEveryOperationValidated(t *testing.T) {
	f := newFixture(t)
	f.sim.SetCommentToken("actions")
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api"}, map[string]string{"contents": "write", "metadata": "read", "issues": "write"})
	f.sim.AddInstallation("alice", "User", nil, nil)
	j := bearer(f.jwt())

	steps := []struct {
		method, path string
		auth         string
		body         any
		status       int
	}{
		{"GET", "/app", j, nil, 200},
		{"GET", "/app/installations?per_page=1", j, nil, 200},
		{"GET", path("/app/installations/%d", inst), j, nil, 200},
		{"GET", "/orgs/acme/installation", j, nil, 200},
		{"GET", "/users/alice/installation", j, nil, 200},
		{"GET", "/repos/acme/api/installation", j, nil, 200},
		{"GET", "/rate_limit", "", nil, 200},
		{"POST", "/repos/acme/api/issues/1/comments", bearer("actions"), map[string]string{"body": "hi"}, 201},
		{"GET", "/repos/acme/api/issues/1/comments", bearer("actions"), nil, 200},
	}
	for _, s := range steps {
		wantStatus(t, s.method+" "+s.path, f.call(s.method, s.path, s.auth, s.body), s.status)
	}
	id := f.sim.Comments("acme", "api", 1)[0].ID
	wantStatus(t, "PATCH comment", f.call("PATCH", path("/repos/acme/api/issues/comments/%d", id), bearer("actions"), map[string]string{"body": "edited"}), 200)
	wantStatus(t, "DELETE comment", f.call("DELETE", path("/repos/acme/api/issues/comments/%d", id), bearer("actions"), nil), 204)

	tok, _ := f.mint(inst, map[string]any{"repositories": []string{"api"}, "permissions": map[string]string{"contents": "read"}})
	wantStatus(t, "installation repositories", f.call("GET", "/installation/repositories", "token "+tok, nil), 200)
	wantStatus(t, "revoke", f.call("DELETE", "/installation/token", "token "+tok, nil), 204)

	loc := submitManifest(t, f, "/settings/apps/new", `{"name":"cov","url":"https://e.example","redirect_url":"http://localhost:1/cb"}`, "s")
	wantStatus(t, "conversion", f.call("POST", "/app-manifests/"+url.PathEscape(loc.Query().Get("code"))+"/conversions", "", nil), 201)

	ops := specOperations(t)
	var missing []string
	for op, re := range ops {
		method, _, _ := strings.Cut(op, " ")
		hit := false
		for _, r := range f.sim.Requests() {
			if r.Method == method && re.MatchString(r.Path) && r.Status < 300 {
				hit = true
			}
		}
		if !hit {
			missing = append(missing, op)
		}
	}
	sort.Strings(missing)
	if len(ops) != 15 || len(missing) > 0 {
		t.Errorf("%d operations in the description; not exercised successfully: %v", len(ops), missing)
	}
}
