package proxy

import (
	"net/url"
	"strings"
	"testing"
)

func mustPolicy(t testing.TB, c Config) *Policy {
	t.Helper()
	p, err := NewPolicy(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var dotcom = Config{
	SandboxID: "sb-1", WebURL: "https://github.com", APIURL: "https://api.github.com",
	AllowedRepos: []string{"my-user/app", "My-Org/*"}, AllowedRefs: []string{"main", "release/*", "refs/tags/v*"}, Push: true,
}

// TestDecide is the classifier and the policy on every GitHub URL shape.
func TestDecide(t *testing.T) {
	ghes := Config{SandboxID: "sb-2", WebURL: "https://ghes.example", APIURL: "https://ghes.example/api/v3", AllowedRepos: []string{"team/tool"}}
	sim := Config{SandboxID: "sb-3", WebURL: "http://127.0.0.1:8090", APIURL: "http://127.0.0.1:8090", AllowedRepos: []string{"my-user/app"}, AllowedEndpoints: []string{"graphql"}}
	tests := []struct {
		cfg    Config
		method string
		url    string
		allow  bool
		rule   string
		kind   Kind
		repo   string // owner/repo found
	}{
		// git smart HTTP on github.com
		{dotcom, "GET", "https://github.com/my-user/app.git/info/refs?service=git-upload-pack", true, RuleRepo, KindGit, "my-user/app"},
		{dotcom, "GET", "https://github.com/my-user/app/info/refs?service=git-upload-pack", true, RuleRepo, KindGit, "my-user/app"},
		{dotcom, "POST", "https://github.com/My-User/App.git/git-upload-pack", true, RuleRepo, KindGit, "My-User/App"},
		{dotcom, "POST", "https://github.com:443/my-user/app.git/git-receive-pack", true, RuleRepo, KindGit, "my-user/app"},
		{dotcom, "GET", "https://github.com/my-user/secret.git/info/refs?service=git-upload-pack", false, RuleRepo, KindGit, "my-user/secret"},
		{dotcom, "GET", "https://github.com/my-org/anything.git/info/refs", true, RuleRepo, KindGit, "my-org/anything"},
		{dotcom, "GET", "https://github.com/my-user/app.git/info/lfs/objects/batch", true, RuleRepo, KindLFS, "my-user/app"},
		{dotcom, "GET", "https://github.com/other/app.git/info/lfs/objects/batch", false, RuleRepo, KindLFS, "other/app"},
		{dotcom, "GET", "https://github.com/my-user/app/archive/refs/heads/main.tar.gz", true, RuleRepo, KindWeb, "my-user/app"},
		{dotcom, "GET", "https://github.com/my-user", false, RuleNonRepo, KindOther, ""},
		{dotcom, "GET", "https://github.com/login", false, RuleNonRepo, KindOther, ""},
		// the API
		{dotcom, "GET", "https://api.github.com/repos/my-user/app/pulls", true, RuleRepo, KindRepoAPI, "my-user/app"},
		{dotcom, "GET", "https://api.github.com/repos/MY-ORG/x", true, RuleRepo, KindRepoAPI, "MY-ORG/x"},
		{dotcom, "GET", "https://api.github.com/repos/my-user/secret/contents/a", false, RuleRepo, KindRepoAPI, "my-user/secret"},
		{dotcom, "POST", "https://api.github.com/graphql", false, RuleNonRepo, KindEndpoint, ""},
		{dotcom, "GET", "https://api.github.com/search/code?q=x", false, RuleNonRepo, KindEndpoint, ""},
		{dotcom, "GET", "https://api.github.com/user/repos", false, RuleNonRepo, KindEndpoint, ""},
		{dotcom, "GET", "https://api.github.com/gists", false, RuleNonRepo, KindEndpoint, ""},
		{dotcom, "GET", "https://api.github.com/orgs/my-org/repos", false, RuleNonRepo, KindEndpoint, ""},
		{dotcom, "GET", "https://api.github.com/repositories/123/contents", false, RuleNonRepo, KindOther, ""},
		{dotcom, "POST", "https://api.github.com/app/installations/1/access_tokens", false, RuleApp, KindApp, ""},
		{dotcom, "GET", "https://api.github.com/app", false, RuleApp, KindApp, ""},
		{dotcom, "GET", "https://api.github.com/", false, RuleNonRepo, KindOther, ""},
		// codeload, raw, objects
		{dotcom, "GET", "https://codeload.github.com/my-user/app/tar.gz/refs/heads/main", true, RuleRepo, KindArchive, "my-user/app"},
		{dotcom, "GET", "https://codeload.github.com/my-user/secret/zip/main", false, RuleRepo, KindArchive, "my-user/secret"},
		{dotcom, "GET", "https://raw.githubusercontent.com/my-user/app/main/README.md", true, RuleRepo, KindRaw, "my-user/app"},
		{dotcom, "GET", "https://raw.githubusercontent.com/my-user/secret/main/.env", false, RuleRepo, KindRaw, "my-user/secret"},
		{dotcom, "GET", "https://objects.githubusercontent.com/github-production-release-asset/1?X-Amz-Signature=x", true, RuleObjects, KindObjects, ""},
		// hosts
		{dotcom, "GET", "https://uploads.github.com/repos/my-user/app/releases/1/assets", false, RuleHost, "", ""},
		{dotcom, "GET", "https://gist.github.com/x", false, RuleHost, "", ""},
		{dotcom, "GET", "https://github.com.evil.example/my-user/app.git/info/refs", false, RuleHost, "", ""},
		{dotcom, "GET", "http://github.com/my-user/app.git/info/refs", false, RuleHost, "", ""},
		{dotcom, "GET", "https://github.com:8443/my-user/app.git/info/refs", false, RuleHost, "", ""},
		{dotcom, "GET", "https://example.com/", false, RuleHost, "", ""},
		// paths a server might read differently
		{dotcom, "GET", "https://github.com/my-user/app/../secret/info/refs", false, RuleRequest, "", ""},
		{dotcom, "GET", "https://github.com/my-user/secret%2f..%2fapp/info/refs", false, RuleRequest, "", ""},
		{dotcom, "GET", "https://github.com//my-user/app/info/refs", false, RuleRequest, "", ""},
		{dotcom, "GET", "https://api.github.com/repos/my-user/ap%70", false, RuleRequest, "", ""},
		// GitHub Enterprise Server
		{ghes, "GET", "https://ghes.example/team/tool.git/info/refs?service=git-upload-pack", true, RuleRepo, KindGit, "team/tool"},
		{ghes, "GET", "https://ghes.example/api/v3/repos/team/tool", true, RuleRepo, KindRepoAPI, "team/tool"},
		{ghes, "GET", "https://ghes.example/api/v3/repos/team/other", false, RuleRepo, KindRepoAPI, "team/other"},
		{ghes, "POST", "https://ghes.example/api/graphql", false, RuleNonRepo, KindEndpoint, ""},
		{ghes, "GET", "https://ghes.example/api/v3/search/code", false, RuleNonRepo, KindEndpoint, ""},
		{ghes, "GET", "https://codeload.github.com/team/tool/zip/main", false, RuleHost, "", ""},
		{ghes, "GET", "https://ghes.example/api/v3/unknown/x", false, RuleNonRepo, KindOther, ""},
		{ghes, "GET", "https://ghes.example/api/v3", false, RuleNonRepo, KindOther, ""},
		{ghes, "GET", "https://ghes.example/api/v3/app/installations", false, RuleApp, KindApp, ""},
		// the simulator: one host for web and API; graphql opened by allowedEndpoints
		{sim, "GET", "http://127.0.0.1:8090/my-user/app.git/info/refs?service=git-receive-pack", false, RulePush, KindGit, "my-user/app"},
		{sim, "GET", "http://127.0.0.1:8090/repos/my-user/app", true, RuleRepo, KindRepoAPI, "my-user/app"},
		{sim, "POST", "http://127.0.0.1:8090/graphql", true, RuleEndpoint, KindEndpoint, ""},
		{sim, "GET", "http://127.0.0.1:8090/search/code", false, RuleNonRepo, KindEndpoint, ""},
		{sim, "GET", "https://127.0.0.1:8090/repos/my-user/app", false, RuleHost, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			d := mustPolicy(t, tt.cfg).Decide(u)
			repo := ""
			if d.Target.RepoScoped() {
				repo = d.Target.Owner + "/" + d.Target.Repo
			}
			if d.Allowed != tt.allow || d.Rule != tt.rule || d.Target.Kind != tt.kind || repo != tt.repo {
				t.Errorf("Decide = allowed %v rule %q kind %q repo %q (%s); want %v %q %q %q", d.Allowed, d.Rule, d.Target.Kind, repo, d.Reason, tt.allow, tt.rule, tt.kind, tt.repo)
			}
			if d.Reason == "" || strings.ContainsAny(d.Reason, "\r\n") {
				t.Errorf("reason %q: want one non-empty line", d.Reason)
			}
		})
	}
}

func TestConnect(t *testing.T) {
	p := mustPolicy(t, dotcom)
	for host, want := range map[string]bool{
		"github.com:443": true, "api.github.com:443": true, "codeload.github.com:443": true,
		"objects.githubusercontent.com:443": true, "raw.githubusercontent.com:443": true, "GitHub.com:443": true,
		"github.com:80": false, "uploads.github.com:443": false, "gist.github.com:443": false, "example.com:443": false,
		"github.com.evil.example:443": false, "140.82.112.3:443": false,
	} {
		if d := p.Connect(host); d.Allowed != want || d.Rule != RuleHost {
			t.Errorf("Connect(%s) = %v %q, want %v", host, d.Allowed, d.Rule, want)
		}
	}
}

func TestDecideRefs(t *testing.T) {
	z := strings.Repeat("0", 40)
	a := strings.Repeat("a", 40)
	cmds := []Command{
		{z, a, "refs/heads/main"}, {a, a, "refs/heads/release/2"}, {a, z, "refs/heads/dev"},
		{z, a, "refs/tags/main"}, {z, a, "refs/tags/v1"}, {z, a, "refs/notes/commits"},
	}
	got := mustPolicy(t, dotcom).DecideRefs(cmds)
	want := []bool{true, true, false, false, true, false}
	for i := range cmds {
		if got[i].Allowed != want[i] || got[i].Rule != RuleRef {
			t.Errorf("%s: allowed %v (%s), want %v", cmds[i].Ref, got[i].Allowed, got[i].Reason, want[i])
		}
	}
	if got[2].Reason != "[km] Push to 'dev' denied" || got[3].Reason != "[km] Push to 'refs/tags/main' denied" {
		t.Errorf("reasons %q, %q", got[2].Reason, got[3].Reason)
	}
	ro := dotcom
	ro.Push = false
	for _, d := range mustPolicy(t, ro).DecideRefs(cmds[:1]) {
		if d.Allowed || !strings.Contains(d.Reason, "does not grant push") {
			t.Errorf("read-only profile: %+v", d)
		}
	}
}

func TestNewPolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no repos", func(c *Config) { c.AllowedRepos = nil }, "allowedRepos is empty"},
		{"bad repo", func(c *Config) { c.AllowedRepos = []string{"*/x"} }, "owner cannot be a wildcard"},
		{"bad ref", func(c *Config) { c.AllowedRefs = []string{"[a-"} }, "allowedRefs"},
		{"bad endpoint", func(c *Config) { c.AllowedEndpoints = []string{"gist"} }, `unknown endpoint "gist"`},
		{"bad web URL", func(c *Config) { c.WebURL = "ftp://x" }, "gitURL (github.webURL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dotcom
			tt.edit(&c)
			if _, err := NewPolicy(c); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewPolicy = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
