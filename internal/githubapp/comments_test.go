package githubapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klankermaker/km/internal/githubsim"
)

const commentToken = "ghs_actionsTokenForTests000000000000000"

// markedBodies returns the bodies (marker line removed) of the comments on
// acme/app#7 that carry marker, oldest first.
func markedBodies(sim *githubsim.Server, marker string) []string {
	var out []string
	for _, c := range sim.Comments("acme", "app", 7) {
		first, rest, _ := strings.Cut(c.Body, "\n")
		if strings.HasPrefix(first, "<!-- km:plan marker="+marker+" part=") {
			if want := MarkerLine(marker, len(out)+1); first != want {
				out = append(out, "BAD MARKER "+first)
				continue
			}
			out = append(out, rest)
		}
	}
	return out
}

func TestSimStickyComment(t *testing.T) {
	e := newSimEnv(t, githubsim.WithPerPageMax(30))
	e.sim.SetCommentToken(commentToken)
	e.secrets = append(e.secrets, commentToken)
	// Other people's comments, enough for several pages, one quoting an old
	// plan comment, and a sticky comment with another marker.
	for i := 0; i < 40; i++ {
		e.sim.AddComment("acme", "app", 7, "reviewer", fmt.Sprintf("looks good %d", i))
	}
	e.sim.AddComment("acme", "app", 7, "reviewer", "> "+MarkerLine("km.yaml", 1)+"\n> old plan\nwhy?")
	e.sim.AddComment("acme", "app", 7, "github-actions[bot]", MarkerLine("other", 1)+"\nother plan")
	humans := len(e.sim.Comments("acme", "app", 7))

	c := NewTokenClient(commentToken, e.options())
	ctx := context.Background()
	steps := []struct {
		name   string
		bodies []string
		want   Result
	}{
		{"create", []string{"plan v1"}, Result{Created: 1}},
		{"identical: no request", []string{"plan v1"}, Result{Unchanged: 1}},
		{"update in place and grow", []string{"plan v2", "part two", "part three"}, Result{Updated: 1, Created: 2}},
		{"shrink", []string{"plan v2", "part two"}, Result{Unchanged: 2, Deleted: 1}},
		{"change the second part only", []string{"plan v2", "part 2"}, Result{Unchanged: 1, Updated: 1}},
		{"remove", nil, Result{Deleted: 2}},
		{"recreate", []string{"plan v3"}, Result{Created: 1}},
	}
	var firstID int64
	for _, st := range steps {
		e.sent.reset()
		res, err := c.UpsertStickyComment(ctx, "acme", "app", 7, "km.yaml", st.bodies)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if res.Created != st.want.Created || res.Updated != st.want.Updated || res.Unchanged != st.want.Unchanged || res.Deleted != st.want.Deleted {
			t.Errorf("%s: result %+v, want %+v", st.name, res, st.want)
		}
		if got := markedBodies(e.sim, "km.yaml"); strings.Join(got, "|") != strings.Join(st.bodies, "|") {
			t.Errorf("%s: comment parts %q, want %q", st.name, got, st.bodies)
		}
		if len(res.URLs) != len(st.bodies) || len(res.IDs) != len(st.bodies) {
			t.Errorf("%s: %d URLs, %d IDs for %d parts", st.name, len(res.URLs), len(res.IDs), len(st.bodies))
		}
		for _, u := range res.URLs {
			if !strings.Contains(u, "/acme/app/") || !strings.Contains(u, "#issuecomment-") {
				t.Errorf("%s: URL %q", st.name, u)
			}
		}
		writes := e.sent.count("POST", "/repos/") + e.sent.count("PATCH", "/repos/") + e.sent.count("DELETE", "/repos/")
		if want := st.want.Created + st.want.Updated + st.want.Deleted; writes != want {
			t.Errorf("%s: %d write requests, want %d", st.name, writes, want)
		}
		if lists := e.sent.count("GET", "/repos/acme/app/issues/7/comments"); lists < 2 {
			t.Errorf("%s: %d list requests: every page must be read", st.name, lists)
		}
		switch st.name {
		case "create":
			firstID = res.IDs[0]
		case "update in place and grow", "shrink":
			if res.IDs[0] != firstID {
				t.Errorf("%s: part 1 is comment %d, want %d edited in place", st.name, res.IDs[0], firstID)
			}
		}
	}
	all := e.sim.Comments("acme", "app", 7)
	if len(all) != humans+1 {
		t.Errorf("%d comments, want the %d others plus one", len(all), humans)
	}
	if got := markedBodies(e.sim, "other"); len(got) != 1 || got[0] != "other plan" {
		t.Errorf("the other marker's comment changed: %q", got)
	}
}

func TestSimStickyCommentLargePlan(t *testing.T) {
	e := newSimEnv(t)
	e.sim.SetCommentToken(commentToken)
	c := NewTokenClient(commentToken, e.options())
	ctx := context.Background()

	big := commentParts(9)
	res, err := c.UpsertStickyComment(ctx, "acme", "app", 7, "km.yaml", big)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != len(big) {
		t.Errorf("created %d, want %d", res.Created, len(big))
	}
	if got := markedBodies(e.sim, "km.yaml"); strings.Join(got, "\x00") != strings.Join(big, "\x00") {
		t.Fatalf("stored parts differ from the split plan (%d vs %d parts)", len(got), len(big))
	}

	small := commentParts(2)
	res, err = c.UpsertStickyComment(ctx, "acme", "app", 7, "km.yaml", small)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 0 || res.Updated+res.Unchanged != len(small) || res.Deleted != len(big)-len(small) {
		t.Errorf("shrink from %d to %d parts: %+v", len(big), len(small), res)
	}
	if got := markedBodies(e.sim, "km.yaml"); strings.Join(got, "\x00") != strings.Join(small, "\x00") {
		t.Errorf("stored parts differ from the smaller plan")
	}
}

func TestSimStickyCommentErrors(t *testing.T) {
	e := newSimEnv(t)
	e.sim.SetCommentToken(commentToken)
	id := e.sim.AddInstallation("acme", "Organization", []string{"app"}, contentsRW)
	noIssues := e.mint(t, TokenRequest{InstallationID: id, Repositories: []string{"app"}})
	ctx := context.Background()

	tests := []struct {
		name     string
		client   *Client
		owner    string
		marker   string
		bodies   []string
		wantKind error
		want     string
	}{
		{"token without pull-requests permission", NewTokenClient(noIssues.Value, e.options()), "acme", "m", []string{"x"}, ErrForbidden, "pull-requests: write"},
		{"bad token", NewTokenClient("ghs_bogusbogusbogusbogusbogusbogusbogus", e.options()), "acme", "m", []string{"x"}, ErrUnauthorized, "token is expired, revoked or wrong"},
		{"marker with spaces", NewTokenClient(commentToken, e.options()), "acme", "a b", []string{"x"}, nil, "marker"},
		{"bad owner", NewTokenClient(commentToken, e.options()), "acme/evil", "m", []string{"x"}, nil, "OWNER/NAME"},
		{"part too long", NewTokenClient(commentToken, e.options()), "acme", "m", []string{strings.Repeat("x", MaxCommentRunes)}, nil, "SplitComment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sent.reset()
			_, err := tt.client.UpsertStickyComment(ctx, tt.owner, "app", 7, tt.marker, tt.bodies)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("errors.Is(%v) = false: %v", tt.wantKind, err)
			}
			if tt.wantKind == nil && e.sent.count("", "/") != 0 {
				t.Errorf("invalid input sent %d requests", e.sent.count("", "/"))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			e.secrets = append(e.secrets, commentToken, "ghs_bogusbogusbogus")
			e.assertClean(t, err.Error())
		})
	}
}

// commentParts is n comment parts as reconcile/views.SplitComment cuts a large
// plan: each just under MaxCommentRunes with its marker line, multi-byte text
// included (GitHub counts characters).
func commentParts(n int) []string {
	parts := make([]string, n)
	for i := range parts {
		line := fmt.Sprintf("+ sandbox[\"sb-%03d\"] attribute = \"ünïcödé-✓\"\n", i)
		parts[i] = strings.Repeat(line, (MaxCommentRunes-MarkerHeadroom)/utf8.RuneCountInString(line))
	}
	return parts
}
