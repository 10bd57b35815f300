package githubsim_test

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubsim"
)

func TestTokenScoping(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api", "web"},
		map[string]string{"contents": "write", "metadata": "read", "issues": "read"})
	allInst := f.sim.AddInstallation("alice", "User", nil, map[string]string{"contents": "read", "metadata": "read"})
	for _, r := range []string{"dotfiles", "notes"} {
		if err := f.sim.AddRepo("alice", r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.sim.AddRepo("acme", "secret"); err != nil { // not in the installation
		t.Fatal(err)
	}
	suspended := f.sim.AddInstallation("frozen", "Organization", nil, nil)
	f.sim.SuspendInstallation(suspended)
	removed := f.sim.AddInstallation("gone", "User", nil, nil)
	f.sim.RemoveInstallation(removed)

	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprintf("r%d", i)
	}
	tests := []struct {
		name      string
		id        int64
		body      any
		status    int
		message   string
		repos     []string
		perms     map[string]string
		selection string
	}{
		{"whole installation", inst, nil, 201, "", nil, map[string]string{"contents": "write", "metadata": "read", "issues": "read"}, "selected"},
		{"one repo read", inst, map[string]any{"repositories": []string{"api"}, "permissions": map[string]string{"contents": "read", "metadata": "read"}}, 201, "", []string{"api"}, map[string]string{"contents": "read", "metadata": "read"}, "selected"},
		{"repo names are case-insensitive", inst, map[string]any{"repositories": []string{"API", "web"}}, 201, "", []string{"api", "web"}, nil, "selected"},
		{"all-selection installation", allInst, nil, 201, "", nil, map[string]string{"contents": "read", "metadata": "read"}, "all"},
		{"all-selection scoped", allInst, map[string]any{"repositories": []string{"notes"}}, 201, "", []string{"notes"}, nil, "selected"},
		{"unknown repo", inst, map[string]any{"repositories": []string{"nope"}}, 422, "not accessible to the parent installation", nil, nil, ""},
		{"repo outside the selection", inst, map[string]any{"repositories": []string{"secret"}}, 422, "not accessible", nil, nil, ""},
		{"other account's repo", inst, map[string]any{"repositories": []string{"dotfiles"}}, 422, "not accessible", nil, nil, ""},
		{"unknown repository id", inst, map[string]any{"repository_ids": []int64{1}}, 422, "not accessible", nil, nil, ""},
		{"permission higher than granted", inst, map[string]any{"permissions": map[string]string{"issues": "write"}}, 422, "not granted", nil, nil, ""},
		{"permission not granted", inst, map[string]any{"permissions": map[string]string{"pull_requests": "read"}}, 422, "not granted", nil, nil, ""},
		{"write on read-only installation", allInst, map[string]any{"permissions": map[string]string{"contents": "write"}}, 422, "not granted", nil, nil, ""},
		{"more than 500 repositories", inst, map[string]any{"repositories": many}, 422, "500", nil, nil, ""},
		{"unknown installation", 999, nil, 404, "Not Found", nil, nil, ""},
		{"removed installation", removed, nil, 404, "Not Found", nil, nil, ""},
		{"suspended installation", suspended, nil, 403, "suspended", nil, nil, ""},
	}
	tokenShape := regexp.MustCompile(`^ghs_[A-Za-z0-9]{36}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.call("POST", path("/app/installations/%d/access_tokens", tt.id), bearer(f.jwt()), tt.body)
			wantStatus(t, tt.name, res, tt.status)
			if tt.status != 201 {
				if msg := res.message(t); !regexp.MustCompile(regexp.QuoteMeta(tt.message)).MatchString(msg) {
					t.Errorf("message %q, want %q", msg, tt.message)
				}
				return
			}
			m := res.object(t)
			tok, _ := m["token"].(string)
			if !tokenShape.MatchString(tok) {
				t.Errorf("token %q has not GitHub's shape", tok)
			}
			if m["expires_at"] != "2025-03-01T13:00:00Z" || m["repository_selection"] != tt.selection {
				t.Errorf("expires_at %v selection %v", m["expires_at"], m["repository_selection"])
			}
			issued, ok := f.sim.LookupToken(tok)
			if !ok {
				t.Fatal("issued token unknown to LookupToken")
			}
			if fmt.Sprint(issued.Repositories) != fmt.Sprint(tt.repos) || (tt.repos == nil) != (issued.Repositories == nil) {
				t.Errorf("Repositories %#v, want %#v", issued.Repositories, tt.repos)
			}
			if tt.perms != nil && fmt.Sprint(issued.Permissions) != fmt.Sprint(tt.perms) {
				t.Errorf("Permissions %v, want %v", issued.Permissions, tt.perms)
			}
			if fmt.Sprint(m["permissions"]) != fmt.Sprint(issued.Permissions) {
				t.Errorf("response permissions %v, recorded %v", m["permissions"], issued.Permissions)
			}
			if tt.repos != nil {
				repos, _ := m["repositories"].([]any)
				if len(repos) != len(tt.repos) {
					t.Fatalf("response repositories %v", m["repositories"])
				}
				if name := repos[0].(map[string]any)["name"]; name != tt.repos[0] {
					t.Errorf("first repository %v, want %s", name, tt.repos[0])
				}
			} else if _, has := m["repositories"]; has {
				t.Errorf("unscoped token lists repositories")
			}
			if !issued.IssuedAt.Equal(t0) || !issued.ExpiresAt.Equal(t0.Add(time.Hour)) || issued.Revoked {
				t.Errorf("issued %+v", issued)
			}
		})
	}

	t.Run("repository ids", func(t *testing.T) {
		_, m := f.mint(inst, map[string]any{"repositories": []string{"web"}})
		id := int64(m["repositories"].([]any)[0].(map[string]any)["id"].(float64))
		tok, _ := f.mint(inst, map[string]any{"repository_ids": []int64{id}})
		issued, _ := f.sim.LookupToken(tok)
		if fmt.Sprint(issued.Repositories) != "[web]" {
			t.Errorf("Repositories %v", issued.Repositories)
		}
	})
	t.Run("no JWT", func(t *testing.T) {
		wantStatus(t, "no JWT", f.call("POST", path("/app/installations/%d/access_tokens", inst), "", nil), 401)
	})
}

func TestInstallationTokenAPI(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api", "web", "docs"}, nil)
	all, _ := f.mint(inst, nil)
	one, _ := f.mint(inst, map[string]any{"repositories": []string{"web"}})

	names := func(tok, query string) []string {
		t.Helper()
		res := f.call("GET", "/installation/repositories"+query, "token "+tok, nil)
		wantStatus(t, "list repos", res, 200)
		var out []string
		for _, r := range res.object(t)["repositories"].([]any) {
			out = append(out, r.(map[string]any)["full_name"].(string))
		}
		return out
	}
	if got := fmt.Sprint(names(all, "")); got != "[acme/api acme/web acme/docs]" {
		t.Errorf("all-repos token sees %s", got)
	}
	if got := fmt.Sprint(names(one, "")); got != "[acme/web]" {
		t.Errorf("scoped token sees %s", got)
	}
	res := f.call("GET", "/installation/repositories?per_page=2", bearer(all), nil)
	if res.object(t)["total_count"] != float64(3) || res.Header.Get("Link") == "" {
		t.Errorf("page 1 of 2: total %v link %q", res.object(t)["total_count"], res.Header.Get("Link"))
	}

	f.sim.RemoveRepoFromInstallation(inst, "api")
	if got := fmt.Sprint(names(all, "")); got != "[acme/web acme/docs]" {
		t.Errorf("after removing api the token sees %s", got)
	}
	wantStatus(t, "token for removed repo",
		f.call("POST", path("/app/installations/%d/access_tokens", inst), bearer(f.jwt()), map[string]any{"repositories": []string{"api"}}), 422)

	wantStatus(t, "revoke", f.call("DELETE", "/installation/token", bearer(one), nil), http.StatusNoContent)
	if got, _ := f.sim.LookupToken(one); !got.Revoked {
		t.Error("DELETE /installation/token did not revoke")
	}
	wantStatus(t, "revoked token", f.call("GET", "/installation/repositories", bearer(one), nil), 401)
	wantStatus(t, "revoke twice", f.call("DELETE", "/installation/token", bearer(one), nil), 401)
	wantStatus(t, "unknown token", f.call("GET", "/installation/repositories", bearer("ghs_unknown"), nil), 401)
	wantStatus(t, "no token", f.call("GET", "/installation/repositories", "", nil), 401)

	f.sim.SuspendInstallation(inst)
	wantStatus(t, "suspended installation's token", f.call("GET", "/installation/repositories", bearer(all), nil), 403)
	f.sim.UnsuspendInstallation(inst)
	wantStatus(t, "unsuspended", f.call("GET", "/installation/repositories", bearer(all), nil), 200)

	f.sim.RevokeAll(inst)
	wantStatus(t, "after RevokeAll", f.call("GET", "/installation/repositories", bearer(all), nil), 401)
	if n := len(f.sim.Tokens()); n != 2 {
		t.Errorf("Tokens() has %d entries, want 2", n)
	}
	for _, tok := range f.sim.Tokens() {
		if !tok.Revoked || tok.Account != "acme" || tok.InstallationID != inst {
			t.Errorf("token %+v", tok)
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	f := newFixture(t, githubsim.WithTokenTTL(10*time.Minute))
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api"}, nil)
	tok, m := f.mint(inst, nil)
	if m["expires_at"] != "2025-03-01T12:10:00Z" {
		t.Errorf("expires_at %v", m["expires_at"])
	}
	f.clock.Advance(10*time.Minute - time.Second)
	wantStatus(t, "just before expiry", f.call("GET", "/installation/repositories", bearer(tok), nil), 200)
	if !f.sim.TokenLive(tok) {
		t.Error("TokenLive false before expiry")
	}
	f.clock.Advance(time.Second)
	wantStatus(t, "at expiry", f.call("GET", "/installation/repositories", bearer(tok), nil), 401)
	if f.sim.TokenLive(tok) {
		t.Error("TokenLive true after expiry")
	}
	// Removing the installation revokes its tokens.
	tok2, _ := f.mint(inst, nil)
	f.sim.RemoveInstallation(inst)
	if got, _ := f.sim.LookupToken(tok2); !got.Revoked {
		t.Error("RemoveInstallation left the token unrevoked")
	}
}
