package views

import (
	"fmt"
	"strings"
	"testing"

	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/plantest"
)

func renderMD(t *testing.T, p *reconcile.Plan, o MarkdownOptions) string {
	t.Helper()
	var b strings.Builder
	if err := RenderMarkdown(&b, p, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// markdownBalanced reports the first unbalanced code fence or <details> in a
// Markdown body, or "".
func markdownBalanced(body string) string {
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
			n := len(t) - len(strings.TrimLeft(t, "`"))
			fence = strings.Repeat("`", n)
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

func TestRenderMarkdownCaution(t *testing.T) {
	mk := func(a reconcile.Action) *reconcile.Plan {
		return &reconcile.Plan{Prefix: "km", Region: "us-east-1", Changes: []reconcile.Change{
			{Address: "aws_iam_role.refresher", Type: reconcile.TypeRole, Action: reconcile.Create, After: map[string]string{"name": "r"}},
			{Address: "aws_log.x", Type: reconcile.TypeLogGroup, Action: a, Reason: "because", Before: map[string]string{"name": "x"}, After: map[string]string{"name": "y"}},
		}}
	}
	for _, tc := range []struct {
		action  reconcile.Action
		caution bool
	}{{reconcile.Create, false}, {reconcile.Update, false}, {reconcile.Delete, true}, {reconcile.Replace, true}} {
		out := renderMD(t, mk(tc.action), MarkdownOptions{})
		if got := strings.Contains(out, "[!CAUTION]"); got != tc.caution {
			t.Errorf("%s: caution shown = %v, want %v\n%s", tc.action, got, tc.caution, out)
		}
		if tc.caution && !strings.Contains(out, "`aws_log.x` will be **") {
			t.Errorf("%s: the caution does not name the resource:\n%s", tc.action, out)
		}
		if !strings.HasPrefix(out, "### km plan (prefix `km`, us-east-1)\n\n**Plan:** ") {
			t.Errorf("%s: title and summary are not on top:\n%s", tc.action, out)
		}
		if p := markdownBalanced(out); p != "" {
			t.Errorf("%s: %s", tc.action, p)
		}
	}
}

func TestRenderMarkdownHidesSensitiveValues(t *testing.T) {
	const secret = "-----BEGIN RSA PRIVATE KEY-----MIIEsecret"
	p := &reconcile.Plan{Changes: []reconcile.Change{{
		Address: "aws_ssm_parameter.private_key", Type: reconcile.TypeConfigParam, Action: reconcile.Update,
		Before: map[string]string{"value": "old" + secret}, After: map[string]string{"value": secret}, Sensitive: []string{"value"},
	}}}
	out := renderMD(t, p, MarkdownOptions{})
	if strings.Contains(out, "MIIEsecret") {
		t.Fatalf("a sensitive value is in the Markdown:\n%s", out)
	}
	if !strings.Contains(out, "(sensitive value)") {
		t.Fatalf("the sensitive change is not shown at all:\n%s", out)
	}
}

// TestRenderMarkdownFenceOutgrowsContent: a value holding ``` cannot close
// the diff block early.
func TestRenderMarkdownFenceOutgrowsContent(t *testing.T) {
	p := &reconcile.Plan{Changes: []reconcile.Change{{
		Address: "aws_ssm_parameter.app_client_id", Type: reconcile.TypeConfigParam, Action: reconcile.Create,
		After: map[string]string{"description": "see ```` and </details> <b>"},
	}}}
	out := renderMD(t, p, MarkdownOptions{})
	if !strings.Contains(out, "`````diff\n") {
		t.Fatalf("the fence is not longer than the content's backtick run:\n%s", out)
	}
	if p := markdownBalanced(out); p != "" {
		t.Fatalf("%s\n%s", p, out)
	}
}

func TestRenderMarkdownTableIsShort(t *testing.T) {
	p := &reconcile.Plan{}
	for i := range 60 {
		id := fmt.Sprintf("sb-%02d", i)
		p.Changes = append(p.Changes,
			reconcile.Change{Address: reconcile.SandboxAddr(id) + ".aws_kms_key.token", Type: reconcile.TypeKey, Sandbox: id, Action: reconcile.Create},
			reconcile.Change{Address: reconcile.SandboxAddr(id) + ".aws_kms_alias.token", Type: reconcile.TypeAlias, Sandbox: id, Action: reconcile.Create},
		)
	}
	p.Changes = append(p.Changes, reconcile.Change{Address: "aws_lambda_function.refresher", Type: reconcile.TypeFunction, Action: reconcile.Update})
	out := renderMD(t, p, MarkdownOptions{})
	table := out[strings.Index(out, "| Sandbox |"):strings.Index(out, "<details>")]
	rows := strings.Count(table, "\n|") - 1 // lines after the header, minus the rule
	if rows != 1+25+1 {
		t.Errorf("table has %d rows, want shared + 25 sandboxes + 1 summing the rest:\n%s", rows, table)
	}
	if !strings.Contains(table, "| … 35 more sandboxes | 70 | 0 | 0 |") {
		t.Errorf("the rest row is missing or wrong:\n%s", table)
	}
	if !strings.Contains(table, "| *shared* | 0 | 1 | 0 |") {
		t.Errorf("the shared row is missing or wrong:\n%s", table)
	}
}

func TestRenderMarkdownCutDiff(t *testing.T) {
	p := &reconcile.Plan{}
	for i := range 50 {
		id := fmt.Sprintf("sb-%02d", i)
		p.Changes = append(p.Changes, reconcile.Change{Address: reconcile.SandboxAddr(id) + ".aws_scheduler_schedule.refresh", Type: reconcile.TypeSchedule, Sandbox: id, Action: reconcile.Create,
			After: map[string]string{"input": plantest.Input, "name": "km-github-token-" + id}})
	}
	whole := renderMD(t, p, MarkdownOptions{})
	cut := renderMD(t, p, MarkdownOptions{MaxDiffRunes: 2000})
	if strings.Contains(whole, "cut short") || !strings.Contains(cut, "The diff was cut short here") {
		t.Fatalf("cut note: whole=%v cut=%v", strings.Contains(whole, "cut short"), strings.Contains(cut, "cut short"))
	}
	if len(cut) > len(whole)/3 || len(cut) < 2000 {
		t.Errorf("cut body is %d bytes, the whole one %d", len(cut), len(whole))
	}
	if p := markdownBalanced(cut); p != "" {
		t.Errorf("%s", p)
	}
}

func TestDiffLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`  + resource "a" "b" {`, `+   resource "a" "b" {`},
		{`  - resource "a" "b" {`, `-   resource "a" "b" {`},
		{`  ~ resource "a" "b" {`, `!   resource "a" "b" {`},
		{`  -/+ resource "a" "b" {`, `!   resource "a" "b" {`},
		{`      ~ name = "a" -> "b"`, `!       name = "a" -> "b"`},
		{`          - "old"`, `-           "old"`},
		{`  # addr will be created`, `  # addr will be created`},
		{`        name = "x"`, `        name = "x"`},
		{`-starts-with-dash`, ` -starts-with-dash`},
		{`    }`, `    }`},
	} {
		if got := diffLine(tc.in); got != tc.want {
			t.Errorf("diffLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
