package planapply_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
)

const commentToken = "ghs_commenttoken0123456789abcdefABCDEF"

// commentEnv is a GitHub simulator with OpenAPI validation and a
// GITHUB_TOKEN-style token, and an Env that points km comment at it.
type commentEnv struct {
	t   *testing.T
	sim *githubsim.Server
	dir string
	out strings.Builder
}

func newCommentEnv(t *testing.T) *commentEnv {
	t.Helper()
	sim := githubsim.New(githubsim.WithOpenAPIValidation())
	t.Cleanup(sim.Close)
	sim.SetCommentToken(commentToken)
	return &commentEnv{t: t, sim: sim, dir: t.TempDir()}
}

func (c *commentEnv) env(extra map[string]string) planapply.Env {
	return planapply.Env{
		ConfigPath: filepath.Join(c.dir, "km.yaml"), // absent: a saved plan needs none
		Getenv: func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			switch k {
			case "GITHUB_TOKEN":
				return commentToken
			case "KM_GITHUB_API_URL":
				return c.sim.URL
			}
			return ""
		},
		Stdout: &c.out, Stderr: &c.out,
	}
}

// savePlan writes p as a plan file made from declaration decl.
func (c *commentEnv) savePlan(name string, p *reconcile.Plan, decl string) string {
	c.t.Helper()
	f, err := reconcile.NewPlanFile(p, reconcile.PlanMeta{PlanID: randomPlanID(), KMVersion: "test", Declaration: decl})
	if err != nil {
		c.t.Fatal(err)
	}
	path := filepath.Join(c.dir, name)
	if err := reconcile.WritePlanFile(path, f); err != nil {
		c.t.Fatal(err)
	}
	return path
}

func (c *commentEnv) comment(planFile string, pr int, maxComments int) (planapply.CommentResult, error) {
	return planapply.Comment(context.Background(), c.env(nil), planapply.CommentOptions{
		Repo: "acme/infra", PR: pr, PlanFile: planFile, MaxComments: maxComments,
	})
}

func (c *commentEnv) checkOpenAPI() {
	c.t.Helper()
	if errs := c.sim.ValidationErrors(); len(errs) > 0 {
		c.t.Fatalf("requests or responses break GitHub's OpenAPI description:\n%s", strings.Join(errs, "\n"))
	}
}

func randomPlanID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// bigPlan is a first apply of n sandboxes, shaped like km's real plans: per
// sandbox a key with its policy, an alias, two tokens and a schedule with its
// payload.
func bigPlan(n int) *reconcile.Plan {
	p := &reconcile.Plan{FormatVersion: reconcile.FormatVersion, DeclarationHash: strings.Repeat("ab", 32), Prefix: "km", Region: "us-east-1"}
	p.Changes = append(p.Changes, reconcile.Change{
		Address: "aws_lambda_function.refresher", Type: "aws_lambda_function", ID: "km-github-token-refresher", Action: reconcile.Create,
		After: map[string]string{"function_name": "km-github-token-refresher", "runtime": "provided.al2023", "arn": reconcile.Unknown},
	})
	for i := range n {
		id := fmt.Sprintf("sb-%04d", i)
		sb := `sandbox["` + id + `"]`
		policy := fmt.Sprintf(`{
  "Id": "km-github-token-%s",
  "Statement": [
    {
      "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*"],
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
      "Resource": "*",
      "Sid": "KeyAdministration"
    },
    {
      "Action": "kms:Decrypt",
      "Condition": {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}},
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:role/km-sandbox-%s"},
      "Resource": "*",
      "Sid": "SandboxDecrypts"
    }
  ],
  "Version": "2012-10-17"
}`, id, id)
		input := fmt.Sprintf(`{
  "allowed_repos": ["my-user/my-repo"],
  "installation_id": 12345678,
  "key_alias": "alias/km-github-token-%s",
  "permissions": {"contents": "write", "metadata": "read"},
  "sandbox_id": "%s"
}`, id, id)
		p.Changes = append(p.Changes,
			reconcile.Change{Address: sb + ".aws_kms_key.token", Type: "aws_kms_key", Sandbox: id, Action: reconcile.Create, Reason: "key missing",
				After: map[string]string{"description": "km GitHub token key for sandbox " + id, "policy": policy, "key_state": "Enabled", "key_id": reconcile.Unknown}},
			reconcile.Change{Address: sb + ".aws_kms_alias.token", Type: "aws_kms_alias", Sandbox: id, Action: reconcile.Create, Reason: "alias missing",
				After: map[string]string{"name": "alias/km-github-token-" + id, "target_key_id": reconcile.Unknown}},
		)
		for _, owner := range []string{"my-user", "my-org"} {
			p.Changes = append(p.Changes, reconcile.Change{
				Address: sb + `.km_github_token["` + owner + `"]`, Type: "km_github_token", Sandbox: id, Action: reconcile.Create, Reason: "token parameter missing",
				After:     map[string]string{"name": "/sandbox/" + id + "/github-token", "owner": owner, "repositories": "my-repo", "permissions": "contents=write,metadata=read", "value": "(minted at apply)"},
				Sensitive: []string{"value"},
			})
		}
		p.Changes = append(p.Changes, reconcile.Change{
			Address: sb + ".aws_scheduler_schedule.refresh", Type: "aws_scheduler_schedule", Sandbox: id, Action: reconcile.Create, Reason: "schedule missing",
			After: map[string]string{"name": "km-github-token-" + id, "input": input, "schedule_expression": "rate(45 minutes)", "target_arn": reconcile.Unknown},
		})
	}
	return p
}

// fenceBalance reports the first unbalanced code fence or <details> in one
// comment body, or "".
func fenceBalance(body string) string {
	fence := ""
	details := 0
	for i, line := range strings.Split(body, "\n") {
		t := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(t, fence) && strings.Trim(t, "`") == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(t, "```") {
			fence = t[:len(t)-len(strings.TrimLeft(t, "`"))]
			continue
		}
		details += strings.Count(line, "<details>") - strings.Count(line, "</details>")
		if details < 0 {
			return fmt.Sprintf("line %d closes a <details> that is not open", i+1)
		}
	}
	switch {
	case fence != "":
		return "a code fence is left open"
	case details != 0:
		return fmt.Sprintf("%d <details> left open", details)
	}
	return ""
}

// Test400SandboxPlanComment: a 400-sandbox plan posted as a PR comment is
// split into continued comments, each within GitHub's 65,536 characters, each
// with fences and <details> balanced, the summary in the first; the whole
// diff survives the split; a re-post of the same plan sends nothing; a smaller
// plan updates the first comment in place and deletes the surplus parts.
func Test400SandboxPlanComment(t *testing.T) {
	c := newCommentEnv(t)
	big := bigPlan(400)
	path := c.savePlan("big.json", big, "infra/km.yaml")
	res, err := c.comment(path, 7, 1000)
	if err != nil {
		t.Fatal(err)
	}
	comments := c.sim.Comments("acme", "infra", 7)
	if res.Created != len(comments) || len(comments) < 10 {
		t.Fatalf("created %d, %d comments on the PR: a 400-sandbox plan should take many", res.Created, len(comments))
	}
	t.Logf("400 sandboxes: %d comments", len(comments))
	var diffLines int
	for i, cm := range comments {
		if n := utf8.RuneCountInString(cm.Body); n > githubapp.MaxCommentRunes {
			t.Errorf("comment %d is %d characters", i+1, n)
		}
		if p := fenceBalance(cm.Body); p != "" {
			t.Errorf("comment %d: %s", i+1, p)
		}
		if !strings.HasPrefix(cm.Body, githubapp.MarkerLine(res.Marker, i+1)+"\n") {
			t.Errorf("comment %d does not start with its marker line: %.80q", i+1, cm.Body)
		}
		diffLines += strings.Count(cm.Body, "\n+ ") + strings.Count(cm.Body, "\n+   ")
	}
	first := comments[0].Body
	for _, want := range []string{"### km plan for `infra/km.yaml`", "**Plan:** 2001 to add, 0 to change, 0 to destroy.", "| Sandbox |", "… 375 more sandboxes"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first comment lacks %q", want)
		}
	}
	var whole strings.Builder
	if err := views.RenderMarkdown(&whole, big, views.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := strings.Count(whole.String(), "\n+ ") + strings.Count(whole.String(), "\n+   "); diffLines != want {
		t.Errorf("the comments hold %d added lines, the plan %d: the split lost some", diffLines, want)
	}

	// The same plan again: nothing is sent.
	c.sim.ResetRequests()
	res, err = c.comment(path, 7, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != len(comments) || c.sim.CountRequests("PATCH", "/repos/") != 0 || c.sim.CountRequests("POST", "/repos/") != 0 {
		t.Fatalf("an identical plan was re-sent: %+v", res.Result)
	}

	// A small plan: the first comment is edited in place, the rest deleted.
	small := bigPlan(1)
	res, err = c.comment(c.savePlan("small.json", small, "infra/km.yaml"), 7, 1000)
	if err != nil {
		t.Fatal(err)
	}
	after := c.sim.Comments("acme", "infra", 7)
	if len(after) != 1 || after[0].ID != comments[0].ID || res.Updated != 1 || res.Deleted != len(comments)-1 {
		t.Fatalf("after a small plan: %d comments (first id %d, was %d), result %+v", len(after), after[0].ID, comments[0].ID, res.Result)
	}
	if !strings.Contains(after[0].Body, "**Plan:** 6 to add") {
		t.Errorf("the comment was not updated to the small plan")
	}
	c.checkOpenAPI()
}

// TestCommentCapsComments: by default a huge plan takes at most
// DefaultMaxComments comments; the diff is cut short with a note, the summary
// stays.
func TestCommentCapsComments(t *testing.T) {
	c := newCommentEnv(t)
	res, err := c.comment(c.savePlan("big.json", bigPlan(400), "km.yaml"), 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	comments := c.sim.Comments("acme", "infra", 8)
	if len(comments) != res.Parts || len(comments) > planapply.DefaultMaxComments || len(comments) < 2 {
		t.Fatalf("%d comments, want 2..%d", len(comments), planapply.DefaultMaxComments)
	}
	last := comments[len(comments)-1].Body
	if !strings.Contains(last, "The diff was cut short here") {
		t.Errorf("the last comment does not say the diff was cut")
	}
	for i, cm := range comments {
		if utf8.RuneCountInString(cm.Body) > githubapp.MaxCommentRunes {
			t.Errorf("comment %d too long", i+1)
		}
		if p := fenceBalance(cm.Body); p != "" {
			t.Errorf("comment %d: %s", i+1, p)
		}
	}
	if !strings.Contains(comments[0].Body, "**Plan:** 2001 to add") {
		t.Errorf("the summary is not in the first comment")
	}
	c.checkOpenAPI()
}

// TestCommentPerDeclaration: two declarations in one repository keep two
// sticky comments on the same pull request; each is updated in place.
func TestCommentPerDeclaration(t *testing.T) {
	c := newCommentEnv(t)
	c.sim.AddComment("acme", "infra", 9, "octocat", "LGTM, but check the plan")
	prod := c.savePlan("prod.json", bigPlan(1), "prod/km.yaml")
	stage := c.savePlan("stage.json", bigPlan(2), "stage/km.yaml")
	for _, p := range []string{prod, stage} {
		if _, err := c.comment(p, 9, 0); err != nil {
			t.Fatal(err)
		}
	}
	cs := c.sim.Comments("acme", "infra", 9)
	if len(cs) != 3 || !strings.Contains(cs[1].Body, "`prod/km.yaml`") || !strings.Contains(cs[2].Body, "`stage/km.yaml`") {
		t.Fatalf("comments: %d", len(cs))
	}
	res, err := c.comment(c.savePlan("prod2.json", bigPlan(3), "prod/km.yaml"), 9, 0)
	if err != nil {
		t.Fatal(err)
	}
	cs2 := c.sim.Comments("acme", "infra", 9)
	if res.Updated != 1 || len(cs2) != 3 || cs2[1].ID != cs[1].ID || cs2[2].Body != cs[2].Body || cs2[0].Body != cs[0].Body {
		t.Fatalf("updating prod touched other comments: %+v", res.Result)
	}
	if !strings.Contains(cs2[1].Body, "**Plan:** 16 to add") {
		t.Errorf("prod's comment was not updated in place")
	}
	if !strings.Contains(c.out.String(), "Plan comment on acme/infra#9") {
		t.Errorf("no confirmation printed: %s", c.out.String())
	}
	c.checkOpenAPI()
}

// TestCommentFailures: km comment fails (non-zero) when it cannot post, and
// never shows the token.
func TestCommentFailures(t *testing.T) {
	c := newCommentEnv(t)
	path := c.savePlan("p.json", bigPlan(1), "km.yaml")
	c.sim.FailNext("POST", "/repos/acme/infra/issues/10/comments", 403)
	_, err := c.comment(path, 10, 0)
	if err == nil {
		t.Fatal("a refused post did not fail")
	}
	if strings.Contains(err.Error(), commentToken) {
		t.Fatalf("the error shows the token: %v", err)
	}
	if !strings.Contains(err.Error(), "acme/infra#10") {
		t.Errorf("the error does not say where: %v", err)
	}

	_, err = planapply.Comment(context.Background(), c.env(map[string]string{"GITHUB_TOKEN": ""}), planapply.CommentOptions{Repo: "acme/infra", PR: 10, PlanFile: path})
	if err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN is not set") {
		t.Errorf("without a token: %v", err)
	}
	_, err = planapply.Comment(context.Background(), c.env(map[string]string{"GITHUB_TOKEN": "ghs_wrongtoken000000000000000000000"}), planapply.CommentOptions{Repo: "acme/infra", PR: 10, PlanFile: path})
	if err == nil || strings.Contains(err.Error(), "ghs_wrongtoken") {
		t.Errorf("with a bad token: %v", err)
	}
	for _, repo := range []string{"acme", "acme/", "/infra", "a/b/c"} {
		if _, err := planapply.Comment(context.Background(), c.env(nil), planapply.CommentOptions{Repo: repo, PR: 1, PlanFile: path}); err == nil || !strings.Contains(err.Error(), "OWNER/NAME") {
			t.Errorf("--repo %q: %v", repo, err)
		}
	}
	if n := len(c.sim.Comments("acme", "infra", 10)); n != 0 {
		t.Errorf("%d comments were posted", n)
	}
}

func TestCommentMarker(t *testing.T) {
	for _, tc := range []struct{ decl, prefix, want string }{
		{"km.yaml", "km", "km.yaml:km"},
		{"infra/prod/km.yaml", "km-prod", "infra/prod/km.yaml:km-prod"},
		{"my dir/km (1).yaml", "km", "my-dir/km-1-.yaml:km"},
		{"", "km", "km.yaml:km"},
	} {
		if got := planapply.CommentMarker(tc.decl, tc.prefix); got != tc.want {
			t.Errorf("CommentMarker(%q, %q) = %q, want %q", tc.decl, tc.prefix, got, tc.want)
		}
	}
	long := strings.Repeat("deep/", 40) + "km.yaml"
	a, b := planapply.CommentMarker(long, "km"), planapply.CommentMarker(strings.Replace(long, "deep/", "DEEP/", 1), "km")
	if len(a) > 100 || a == b || !strings.HasSuffix(a, ":km") {
		t.Errorf("long paths: %q, %q", a, b)
	}
}

func TestDeclarationRef(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "infra", "prod", "km.yaml")
	if got := planapply.DeclarationRef(file); got != "infra/prod/km.yaml" {
		t.Errorf("in a repository: %q", got)
	}
	outside := filepath.Join(t.TempDir(), "km.yaml")
	if got := planapply.DeclarationRef(outside); got != "km.yaml" {
		t.Errorf("outside a repository: %q", got)
	}
}
