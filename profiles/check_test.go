package profiles

import (
	"strings"
	"testing"
)

// TestCheckers covers the single-value validators; "" means the value is valid.
func TestCheckers(t *testing.T) {
	cases := []struct {
		name  string
		check func(string) error
		in    string
		frag  string
	}{
		{"prefix ok", checkPrefix, "km", ""},
		{"prefix with digits and hyphen", checkPrefix, "team-2", ""},
		{"prefix empty", checkPrefix, "", "prefix is empty"},
		{"prefix underscore", checkPrefix, "k_m", "other than letters, digits and hyphens"},
		{"prefix leading hyphen", checkPrefix, "-km", "starts or ends with a hyphen"},
		{"prefix too long", checkPrefix, strings.Repeat("k", 40), "expected at most 39"},
		{"prefix reserved by SSM", checkPrefix, "AWS-km", "SSM reserves"},
		{"region ok", checkRegion, "us-east-1", ""},
		{"region gov", checkRegion, "us-gov-west-1", ""},
		{"region bad", checkRegion, "US-EAST-1", "not an AWS region name"},
		{"principal role with path", CheckPrincipal, "arn:aws:iam::123456789012:role/a/b/c", ""},
		{"principal user", CheckPrincipal, "arn:aws:iam::123456789012:user/bob", ""},
		{"principal China role", CheckPrincipal, "arn:aws-cn:iam::123456789012:role/r", ""},
		{"principal root", CheckPrincipal, "arn:aws-cn:iam::123456789012:root", "is an account root"},
		{"principal bare account", CheckPrincipal, "123456789012", "is an account root"},
		{"principal empty", CheckPrincipal, "", "principal is empty"},
		{"principal sts", CheckPrincipal, "arn:aws:sts::123456789012:assumed-role/a/b", "is an STS session"},
		{"principal empty role name", CheckPrincipal, "arn:aws:iam::123456789012:role/", "not an IAM role or user ARN"},
		{"principal role path only", CheckPrincipal, "arn:aws:iam::123456789012:role/a/", "not an IAM role or user ARN"},
		{"principal wildcard", CheckPrincipal, "arn:aws:iam::123456789012:role/*", "not an IAM role or user ARN"},
		{"principal group", CheckPrincipal, "arn:aws:iam::123456789012:group/g", "not an IAM role or user ARN"},
		{"principal unknown partition", CheckPrincipal, "arn:azure:iam::123456789012:role/r", "not an IAM role or user ARN"},
		{"schedule rate", checkSchedule, "rate(45 minutes)", ""},
		{"schedule one hour", checkSchedule, "rate(1 hour)", ""},
		{"schedule one minutes", checkSchedule, "rate(1 minutes)", "singular for 1"},
		{"schedule zero", checkSchedule, "rate(0 minutes)", "positive whole number"},
		{"schedule days", checkSchedule, "rate(1 day)", "not a schedule expression"},
		{"schedule cron", checkSchedule, "cron(0/45 * * * ? *)", ""},
		{"login ok", CheckLogin, "a-b-c", ""},
		{"login too long", CheckLogin, strings.Repeat("a", 40), "at most 39"},
		{"profile name", CheckProfileName, "web.v2_x", ""},
		{"profile name with slash", CheckProfileName, "a/b", "malformed"},
		{"sandbox id", func(s string) error { return CheckSandboxID(s, "km") }, "sb-7f3a9c", ""},
		{"sandbox id empty", func(s string) error { return CheckSandboxID(s, "km") }, "", "empty"},
		{"sandbox id uppercase", func(s string) error { return CheckSandboxID(s, "") }, "Sb", "malformed"},
		{"sandbox id at the schedule limit", func(s string) error { return CheckSandboxID(s, "km") }, "s" + strings.Repeat("1", 47), ""},
		{"sandbox id over the schedule limit", func(s string) error { return CheckSandboxID(s, "km") }, "s" + strings.Repeat("1", 48), "at most 48"},
	}
	for _, c := range cases {
		err := c.check(c.in)
		switch {
		case c.frag == "" && err != nil:
			t.Errorf("%s: %q: unexpected error %v", c.name, c.in, err)
		case c.frag != "" && (err == nil || !strings.Contains(err.Error(), c.frag)):
			t.Errorf("%s: %q: got %v, want an error containing %q", c.name, c.in, err, c.frag)
		}
	}
}

func TestParseRepoPattern(t *testing.T) {
	cases := []struct {
		in   string
		want RepoPattern
		frag string
	}{
		{"*", RepoPattern{Owner: "*", Repo: "*"}, ""},
		{"Org/*", RepoPattern{Owner: "Org", Repo: "*"}, ""},
		{"org/my.repo_1-x", RepoPattern{Owner: "org", Repo: "my.repo_1-x"}, ""},
		{"org/..", RepoPattern{}, "not a GitHub repository name"},
		{"org/", RepoPattern{}, "not a GitHub repository name"},
		{"/repo", RepoPattern{}, "not a GitHub account login"},
		{"a/b/c", RepoPattern{}, "expected owner/repo"},
		{"org/re?o", RepoPattern{}, "whole-name *"},
	}
	for _, c := range cases {
		got, err := ParseRepoPattern(c.in)
		if c.frag == "" {
			if err != nil || got != c.want || got.String() != c.in {
				t.Errorf("ParseRepoPattern(%q) = %+v (%q), %v; want %+v", c.in, got, got.String(), err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("ParseRepoPattern(%q) error = %v, want %q", c.in, err, c.frag)
		}
	}
}

// TestAnchorsAndAliases: YAML anchors are followed, and an unknown alias is
// reported where it is used.
func TestAnchorsAndAliases(t *testing.T) {
	inTempDir(t, map[string]string{
		"km.yaml":         "github:\n  appClientId: Iv1.x\n  installations:\n    me: &id 5\n    org: *id\nsandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r\n",
		"profiles/p.yaml": "apiVersion: klankermaker.ai/v1alpha1\nkind: SandboxProfile\nmetadata: {name: p}\nspec:\n  sourceAccess:\n    github:\n      allowedRepos: [me/x, org/y]\n",
	})
	c, err := Load("km.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := c.InstallationFor("org"); in.ID != 5 || in.Account != "org" {
		t.Errorf("aliased installation = %+v", in)
	}
	inTempDir(t, map[string]string{"km.yaml": "region: us-east-1\nprefix: *nope\n"})
	_, err = Load("km.yaml")
	list := mustErrors(t, err)
	if len(list) != 1 || posOf(list[0]) != "km.yaml:2:9" || !strings.Contains(list[0].Msg, "unknown anchor 'nope' referenced") {
		t.Errorf("got %v, want km.yaml:2:9 unknown anchor", err)
	}
}
