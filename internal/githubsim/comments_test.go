package githubsim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCommentsCRUD(t *testing.T) {
	f := newFixture(t)
	const actions = "ghp_actions_token_for_tests"
	f.sim.SetCommentToken(actions)
	human := f.sim.AddComment("acme", "api", 7, "alice", "LGTM")

	base := "/repos/acme/api/issues/7/comments"
	res := f.call("POST", base, bearer(actions), map[string]string{"body": "## Plan\n1 to add"})
	wantStatus(t, "create", res, 201)
	c := res.object(t)
	id := int64(c["id"].(float64))
	if c["user"].(map[string]any)["login"] != "github-actions[bot]" || c["body"] != "## Plan\n1 to add" {
		t.Errorf("created %v", c)
	}
	if res.Header.Get("Location") != c["url"] {
		t.Errorf("Location %q, url %v", res.Header.Get("Location"), c["url"])
	}

	list := f.call("GET", base, "token "+actions, nil)
	wantStatus(t, "list", list, 200)
	items := list.array(t)
	if len(items) != 2 || items[0].(map[string]any)["id"] != float64(human.ID) {
		t.Fatalf("list %v", items)
	}
	if n := len(f.call("GET", "/repos/acme/api/issues/8/comments", bearer(actions), nil).array(t)); n != 0 {
		t.Errorf("issue 8 has %d comments", n)
	}

	f.clock.Advance(61 * time.Second)
	upd := f.call("PATCH", path("/repos/acme/api/issues/comments/%d", id), bearer(actions), map[string]string{"body": "## Plan\nno changes"})
	wantStatus(t, "update", upd, 200)
	got := f.sim.Comments("acme", "api", 7)
	if len(got) != 2 || got[1].Body != "## Plan\nno changes" || got[1].User != "github-actions[bot]" || !got[1].Updated.After(got[1].Created) {
		t.Errorf("after update: %+v", got)
	}
	wantStatus(t, "update in another repo", f.call("PATCH", path("/repos/acme/web/issues/comments/%d", id), bearer(actions), map[string]string{"body": "x"}), 404)

	wantStatus(t, "delete", f.call("DELETE", path("/repos/acme/api/issues/comments/%d", id), bearer(actions), nil), 204)
	wantStatus(t, "delete again", f.call("DELETE", path("/repos/acme/api/issues/comments/%d", id), bearer(actions), nil), 404)
	if got := f.sim.Comments("acme", "api", 7); len(got) != 1 || got[0].User != "alice" {
		t.Errorf("after delete: %+v", got)
	}

	wantStatus(t, "no token", f.call("POST", base, "", map[string]string{"body": "x"}), 401)
	wantStatus(t, "wrong token", f.call("POST", base, bearer("ghp_wrong"), map[string]string{"body": "x"}), 401)
	wantStatus(t, "blank body", f.call("POST", base, bearer(actions), map[string]string{"body": "  "}), 422)
}

func TestCommentBodyLimit(t *testing.T) {
	f := newFixture(t)
	f.sim.SetCommentToken("tok")
	base := "/repos/acme/api/issues/1/comments"
	// The limit counts characters, not bytes.
	wantStatus(t, "65536 characters", f.call("POST", base, bearer("tok"), map[string]string{"body": strings.Repeat("é", 65536)}), 201)
	res := f.call("POST", base, bearer("tok"), map[string]string{"body": strings.Repeat("a", 65537)})
	wantStatus(t, "65537 characters", res, 422)
	if !strings.Contains(string(res.Body), "Body is too long (maximum is 65536 characters)") {
		t.Errorf("422 body %s", res.Body)
	}
	id := int64(f.call("GET", base, bearer("tok"), nil).array(t)[0].(map[string]any)["id"].(float64))
	wantStatus(t, "update too long", f.call("PATCH", path("/repos/acme/api/issues/comments/%d", id), bearer("tok"), map[string]string{"body": strings.Repeat("b", 65537)}), 422)
	if got := f.sim.Comments("acme", "api", 1); len(got) != 1 || got[0].Body != strings.Repeat("é", 65536) {
		t.Errorf("the rejected update changed the comment")
	}
}

func TestCommentsPaginationAndInstallationTokens(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.sim.AddComment("acme", "api", 3, "bob", fmt.Sprint("c", i))
	}
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api", "web"}, map[string]string{"issues": "write", "contents": "read", "metadata": "read"})
	writer, _ := f.mint(inst, map[string]any{"repositories": []string{"api"}})
	reader, _ := f.mint(inst, map[string]any{"repositories": []string{"api"}, "permissions": map[string]string{"contents": "read"}})

	res := f.call("GET", "/repos/acme/api/issues/3/comments?per_page=2&page=2", bearer(writer), nil)
	wantStatus(t, "page 2", res, 200)
	if items := res.array(t); len(items) != 2 || items[0].(map[string]any)["body"] != "c2" {
		t.Errorf("page 2: %v", items)
	}
	link := res.Header.Get("Link")
	for _, want := range []string{`page=3&per_page=2>; rel="next"`, `page=1&per_page=2>; rel="prev"`, `rel="last"`, `rel="first"`} {
		if !strings.Contains(link, want) {
			t.Errorf("Link %q lacks %s", link, want)
		}
	}

	res = f.call("POST", "/repos/acme/api/issues/3/comments", bearer(writer), map[string]string{"body": "from the app"})
	wantStatus(t, "installation token comment", res, 201)
	if login := res.object(t)["user"].(map[string]any)["login"]; login != "km-test[bot]" {
		t.Errorf("author %v, want km-test[bot]", login)
	}
	wantStatus(t, "token without issues permission", f.call("POST", "/repos/acme/api/issues/3/comments", bearer(reader), map[string]string{"body": "x"}), 403)
	wantStatus(t, "token for another repo", f.call("POST", "/repos/acme/web/issues/3/comments", bearer(writer), map[string]string{"body": "x"}), 404)
	wantStatus(t, "unknown repo", f.call("GET", "/repos/acme/nope/issues/3/comments", bearer(writer), nil), 404)
}
