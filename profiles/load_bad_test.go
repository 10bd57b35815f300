package profiles

import (
	"errors"
	"strings"
	"testing"
)

// patch applies old->new replacements (each must match) to base.
func patch(t *testing.T, base string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(base, pairs[i]) {
			t.Fatalf("patch: %q not in base", pairs[i])
		}
		base = strings.Replace(base, pairs[i], pairs[i+1], 1)
	}
	return base
}

// TestLoadRejects is the catalogue of bad declarations: each names the exact
// FILE:LINE:COL Load must report and a fragment of the message.
func TestLoadRejects(t *testing.T) {
	long64 := strings.Repeat("a", 64)
	long49 := strings.Repeat("b", 49)
	type tc struct {
		name    string
		km      func(t *testing.T) string // km.yaml; nil: baseKM
		profile func(t *testing.T) string // profiles/p.yaml; nil: baseProfile
		extra   map[string]func(t *testing.T) string
		want    string // FILE:LINE:COL of the asserted error
		frag    string
		count   int // total errors expected; 0 means 1
	}
	km := func(pairs ...string) func(*testing.T) string {
		return func(t *testing.T) string { return patch(t, baseKM, pairs...) }
	}
	kmRaw := func(s string) func(*testing.T) string { return func(*testing.T) string { return s } }
	prof := func(pairs ...string) func(*testing.T) string {
		return func(t *testing.T) string { return patch(t, baseProfile, pairs...) }
	}
	withKey := km("  appClientId: Iv1.abc123\n", "  appClientId: Iv1.abc123\n  privateKeyFile: app.pem\n")
	refresher := func(line string) func(*testing.T) string {
		return func(t *testing.T) string { return baseKM + "refresher:\n" + line + "\n" }
	}
	cases := []tc{
		// km.yaml: keys and types
		{name: "unknown top-level key", km: km("region:", "regoin:"), want: "km.yaml:1:1", frag: `unknown key "regoin"; expected one of region, prefix, github, refresher, profilesDir, sandboxes, safety, quotas; did you mean "region"?`},
		{name: "mistyped github key", km: km("appClientId:", "appClientID:"), want: "km.yaml:3:3", frag: `unknown key "appClientID"; expected one of appClientId, appId, privateKeyFile, apiURL, webURL, installations, defaultInstallation; did you mean "appClientId"?`},
		{name: "duplicate key", km: func(*testing.T) string { return baseKM + "region: eu-west-1\n" }, want: "km.yaml:11:1", frag: `duplicate key "region" (first at line 1)`},
		{name: "appId not an integer", km: km("  installations:", "  appId: abc\n  installations:"), want: "km.yaml:4:10", frag: `github.appId: found the string "abc"; expected the App's numeric ID`},
		{name: "appId negative", km: km("  installations:", "  appId: -5\n  installations:"), want: "km.yaml:4:10", frag: "found -5; expected a positive integer"},
		{name: "installation id zero", km: km("my-user: 12345678", "my-user: 0"), want: "km.yaml:5:14", frag: "github.installations.my-user: found 0; expected a positive integer"},
		{name: "installation id a string", km: km("my-user: 12345678", "my-user: abc"), want: "km.yaml:5:14", frag: `found the string "abc"; expected a positive integer`},
		{name: "installation id empty", km: km("my-user: 12345678", "my-user:"), want: "km.yaml:5:13", frag: "found an empty value; expected a positive integer"},
		{name: "installations not a mapping", km: km("  installations:\n    my-user: 12345678\n    my-org: 23456789\n", "  installations: [my-user, my-org]\n"), want: "km.yaml:4:18", frag: "github.installations: found a list; expected a mapping", count: 3},
		{name: "duplicate installation account", km: km("my-org: 23456789", "My-User: 23456789"), want: "km.yaml:6:5", frag: `duplicate account "My-User" (also at line 5; accounts compare case-insensitively)`, count: 2},
		{name: "bad account login", km: km("my-org:", "my_org:"), want: "km.yaml:6:5", frag: `"my_org" is not a GitHub account login`, count: 2},
		{name: "defaultInstallation unlisted", km: km("sandboxes:", "  defaultInstallation: my-usr\nsandboxes:"), want: "km.yaml:7:24", frag: `"my-usr" is not listed under github.installations; expected one of my-user, my-org; did you mean "my-user"?`},
		{name: "apiURL not http", km: km("  installations:", "  apiURL: ftp://x\n  installations:"), want: "km.yaml:4:11", frag: `github.apiURL "ftp://x" is not an http(s) URL`},
		{name: "github not a mapping", km: kmRaw("github: true\n"), want: "km.yaml:1:9", frag: "github: found the boolean \"true\"; expected a mapping"},
		// km.yaml: the private key
		{name: "privateKeyFile not PEM", km: withKey, extra: map[string]func(*testing.T) string{"app.pem": kmRaw("hello\n")}, want: "km.yaml:4:19", frag: "app.pem: no PEM block found"},
		{name: "privateKeyFile not RSA", km: withKey, extra: map[string]func(*testing.T) string{"app.pem": func(t *testing.T) string { return string(ecPEM(t)) }}, want: "km.yaml:4:19", frag: "the key is ECDSA, not RSA"},
		{name: "privateKeyFile a certificate", km: withKey, extra: map[string]func(*testing.T) string{"app.pem": kmRaw("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}, want: "km.yaml:4:19", frag: `found a PEM block of type "CERTIFICATE"; expected "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8)`},
		// km.yaml: names and AWS values
		{name: "bad prefix", km: func(*testing.T) string { return "prefix: km_x\n" + baseKM }, want: "km.yaml:1:9", frag: `prefix "km_x" has characters other than letters, digits and hyphens`},
		{name: "bad region", km: km("region: us-east-1", "region: us-east"), want: "km.yaml:1:9", frag: `region "us-east" is not an AWS region name`},
		{name: "refresher memory too small", km: refresher("  memoryMB: 64"), want: "km.yaml:12:13", frag: "refresher.memoryMB: found 64; expected an integer from 128 to 10240"},
		{name: "refresher timeout too long", km: refresher("  timeoutSeconds: 901"), want: "km.yaml:12:19", frag: "refresher.timeoutSeconds: found 901; expected an integer from 1 to 900"},
		{name: "refresher retention not allowed", km: refresher("  logRetentionDays: 31"), want: "km.yaml:12:21", frag: "logRetentionDays 31 is not a value CloudWatch Logs accepts; expected one of 1, 3, 5, 7, 14, 30"},
		{name: "refresher architecture", km: refresher("  architecture: amd64"), want: "km.yaml:12:17", frag: `found "amd64"; expected arm64 or x86_64`},
		{name: "refresher schedule plural", km: refresher("  schedule: rate(45 minute)"), want: "km.yaml:12:13", frag: "wants the unit singular for 1 and plural otherwise"},
		{name: "refresher schedule unknown", km: refresher("  schedule: every 45 minutes"), want: "km.yaml:12:13", frag: `schedule "every 45 minutes" is not a schedule expression; expected rate(N minutes), rate(N hours) or cron(...)`},
		{name: "refresher cron fields", km: refresher("  schedule: cron(0 * * * *)"), want: "km.yaml:12:13", frag: "a cron expression has 6 fields"},
		{name: "refresher unknown key", km: refresher("  memory: 128"), want: "km.yaml:12:3", frag: `unknown key "memory"; expected one of schedule, memoryMB, timeoutSeconds, logRetentionDays, architecture; did you mean "memoryMB"?`},
		// km.yaml: sandboxes
		{name: "duplicate sandbox id", km: func(*testing.T) string {
			return baseKM + "  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/other\n"
		}, want: "km.yaml:11:9", frag: `duplicate sandbox id "sb-1" (first at line 8)`},
		{name: "malformed sandbox id", km: km("id: sb-1", "id: SB_1"), want: "km.yaml:8:9", frag: `sandbox id "SB_1" is malformed; expected lowercase letters, digits and hyphens, starting with a letter`},
		{name: "sandbox id starts with a digit", km: km("id: sb-1", "id: 1sb"), want: "km.yaml:8:9", frag: "is malformed"},
		{name: "sandbox id too long", km: km("id: sb-1", "id: "+long64), want: "km.yaml:8:9", frag: "is 64 characters; expected at most 63"},
		{name: "sandbox id too long for a schedule name", km: km("id: sb-1", "id: "+long49), want: "km.yaml:8:9", frag: "characters; EventBridge Scheduler allows 64, so use an id of at most 48 characters"},
		{name: "sandbox without profile", km: km("    profile: p\n", ""), want: "km.yaml:8:5", frag: "sandboxes entry has no profile"},
		{name: "sandbox unknown key", km: func(*testing.T) string { return baseKM + "    principle: arn:aws:iam::123456789012:role/x\n" }, want: "km.yaml:11:5", frag: `did you mean "principal"?`},
		{name: "sandbox names a missing profile", km: km("profile: p", "profile: q"), want: "km.yaml:9:14", frag: `sandbox sb-1: profile "q" not found in profiles; expected the metadata.name of a SandboxProfile there (found: p)`},
		{name: "bad principal", km: km("arn:aws:iam::123456789012:role/km-sandbox-sb-1", "arn:aws:iam::123:role/x"), want: "km.yaml:10:16", frag: `principal "arn:aws:iam::123:role/x" is not an IAM role or user ARN; expected the ARN of the sandbox's own IAM role or user, arn:aws:iam::<12-digit account>:role/NAME or :user/NAME`},
		{name: "sandbox without principal", km: km("    principal: arn:aws:iam::123456789012:role/km-sandbox-sb-1\n", ""), want: "km.yaml:8:5", frag: "sandboxes entry sb-1 has no principal; expected principal: followed by the ARN of the IAM role or user that alone may read this sandbox's token"},
		{name: "empty principal", km: km("arn:aws:iam::123456789012:role/km-sandbox-sb-1", `""`), want: "km.yaml:10:16", frag: "sandboxes entry principal is empty; expected the ARN of the IAM role or user"},
		{name: "principal is the account root", km: km("arn:aws:iam::123456789012:role/km-sandbox-sb-1", "arn:aws:iam::123456789012:root"), want: "km.yaml:10:16", frag: `principal "arn:aws:iam::123456789012:root" is an account root: it would let every principal of that account whose IAM policy allows kms:Decrypt read the token`},
		{name: "principal is a bare account id", km: km("arn:aws:iam::123456789012:role/km-sandbox-sb-1", `"123456789012"`), want: "km.yaml:10:16", frag: `principal "123456789012" is an account root`},
		{name: "principal is a GovCloud root", km: km("arn:aws:iam::123456789012:role/km-sandbox-sb-1", "arn:aws-us-gov:iam::123456789012:root"), want: "km.yaml:10:16", frag: "is an account root"},
		{name: "principal is an STS session", km: km("arn:aws:iam::123456789012:role/km-sandbox-sb-1", "arn:aws:sts::123456789012:assumed-role/dev/alice"), want: "km.yaml:10:16", frag: "is an STS session, which changes with every session; expected the role's ARN arn:aws:iam::123456789012:role/dev"},
		{name: "principal is a group", km: km("arn:aws:iam::123456789012:role/km-sandbox-sb-1", "arn:aws:iam::123456789012:group/devs"), want: "km.yaml:10:16", frag: "is not an IAM role or user ARN"},
		{name: "principal shared by two sandboxes", km: func(*testing.T) string {
			return baseKM + "  - id: sb-2\n    profile: p\n    principal: arn:aws:iam::123456789012:role/km-sandbox-sb-1\n"
		}, want: "km.yaml:13:16", frag: `principal "arn:aws:iam::123456789012:role/km-sandbox-sb-1" is already the principal of sandbox sb-1 (line 10); expected each sandbox to have its own role or user`},
		{name: "principal shared under another path and case", km: func(*testing.T) string {
			return baseKM + "  - id: sb-2\n    profile: p\n    principal: arn:aws:iam::123456789012:role/team/KM-Sandbox-SB-1\n"
		}, want: "km.yaml:13:16", frag: "is already the principal of sandbox sb-1 (line 10)"},
		{name: "sandboxes not a list", km: km("sandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/km-sandbox-sb-1\n", "sandboxes: {id: sb-1}\n"), want: "km.yaml:7:12", frag: "sandboxes: found a mapping; expected a list"},
		{name: "owner without installation", profile: prof("my-user/my-repo, my-org/*", "other-org/x"), want: "km.yaml:8:5", frag: `sandbox sb-1: profile "p" needs a GitHub App installation for account "other-org" (from other-org/x at profiles/p.yaml:9:22), but github.installations lists: my-user, my-org`},
		// No App recorded at all: one error, the seed's two steps in order (issue 15).
		{name: "no github section but owners", km: kmRaw("region: us-east-1\nsandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n"), want: "km.yaml:3:5", frag: "ErrGitHubNotConfigured: no GitHub App is configured (github.appClientId and at least one installation in km.yaml); fix: run `km github` to create and configure the App, then `km configure github --discover --force`"},
		{name: "no github section, star", km: kmRaw("sandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n"), profile: prof("my-user/my-repo, my-org/*", `"*"`), want: "km.yaml:2:5", frag: "fix: run `km github` to create and configure the App, then `km configure github --discover --force`"},
		{name: "no github section, two sandboxes", km: kmRaw("sandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n  - id: sb-2\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r2\n"), want: "km.yaml:2:5", frag: "ErrGitHubNotConfigured"},
		{name: "App without installations, star", km: kmRaw("github:\n  appClientId: Iv1.abc123\nsandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n"), profile: prof("my-user/my-repo, my-org/*", `"*"`), want: "km.yaml:4:5", frag: `profile "p" allows "*" (profiles/p.yaml:9:22), which uses the default installation, but km.yaml lists no github.installations`},
		{name: "App without installations, owner", km: kmRaw("github:\n  appClientId: Iv1.abc123\nsandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n"), want: "km.yaml:4:5", frag: `needs a GitHub App installation for account "my-user"`, count: 2},
		{name: "profilesDir missing", km: func(*testing.T) string { return baseKM + "profilesDir: nope\n" }, want: "km.yaml:11:14", frag: "profilesDir: cannot read nope: no such file or directory", count: 2},
		{name: "km.yaml not YAML", km: kmRaw("region: us-east-1\ngithub:\n  installations: {my-user: 1\nsandboxes: []\n"), want: "km.yaml:3:1", frag: "YAML syntax error: did not find expected ',' or '}'"},
		{name: "km.yaml a list", km: kmRaw("- region\n"), want: "km.yaml:1:1", frag: "km.yaml: found a list; expected a mapping"},
		// profiles
		{name: "profile mistyped key", profile: prof("allowedRepos:", "allowedRepo:"), want: "profiles/p.yaml:9:7", frag: `spec.sourceAccess.github: unknown key "allowedRepo"; expected one of allowedRepos, allowedRefs, permissions, allowedEndpoints; did you mean "allowedRepos"?`, count: 2},
		{name: "repo pattern without owner", profile: prof("my-user/my-repo", "my-repo"), want: "profiles/p.yaml:9:22", frag: `repo pattern "my-repo": expected owner/repo, owner/* or "*"`},
		{name: "repo pattern with partial wildcard", profile: prof("my-user/my-repo", "my-user/re*po"), want: "profiles/p.yaml:9:22", frag: "only a whole-name * is supported"},
		{name: "repo pattern wildcard owner", profile: prof("my-user/my-repo", `"*/my-repo"`), want: "profiles/p.yaml:9:22", frag: "the owner cannot be a wildcard"},
		{name: "repo pattern bad owner", profile: prof("my-user/my-repo", "-bad/my-repo"), want: "profiles/p.yaml:9:22", frag: `owner "-bad" is not a GitHub account login`},
		{name: "repo pattern bad name", profile: prof("my-user/my-repo", `"my-user/my repo"`), want: "profiles/p.yaml:9:22", frag: `"my repo" is not a GitHub repository name`},
		{name: "repo pattern unquoted star", profile: prof("my-org/*]", "*]"), want: "profiles/p.yaml:9:1", frag: `YAML syntax error: did not find expected alphabetic or numeric character; expected valid YAML (a value starting with * or & must be quoted, like "*")`, count: 2},
		{name: "empty allowedRepos", profile: prof("[my-user/my-repo, my-org/*]", "[]"), want: "profiles/p.yaml:9:21", frag: `spec.sourceAccess.github.allowedRepos is empty; expected a list of owner/repo, owner/* or "*"`},
		{name: "bad ref pattern", profile: prof(`"release/*"`, `"release/[v"`), want: "profiles/p.yaml:10:27", frag: `ref pattern "release/[v": the [ at character 9 has no closing ]`},
		{name: "unknown permission", profile: prof("fetch, push]", "fetch, pull]"), want: "profiles/p.yaml:11:35", frag: `unknown permission "pull"; expected clone, fetch or push; did you mean "push"?`},
		{name: "permissions not a list", profile: prof("[clone, fetch, push]", "push"), want: "profiles/p.yaml:11:20", frag: `permissions: found the string "push"; expected a list of clone, fetch, push`},
		{name: "empty permissions", profile: prof("[clone, fetch, push]", "[]"), want: "profiles/p.yaml:11:20", frag: "permissions is empty"},
		{name: "wrong apiVersion", profile: prof("klankermaker.ai/v1alpha1", "klankermaker.ai/v1"), want: "profiles/p.yaml:1:13", frag: `apiVersion "klankermaker.ai/v1" is not supported; expected klankermaker.ai/v1alpha1`, count: 2},
		{name: "not a SandboxProfile", profile: prof("kind: SandboxProfile", "kind: NetworkPolicy"), want: "profiles/p.yaml:2:7", frag: `kind "NetworkPolicy" is not a SandboxProfile; expected kind: SandboxProfile`, count: 2},
		{name: "no kind", profile: prof("kind: SandboxProfile\n", ""), want: "profiles/p.yaml:1:1", frag: "profile has no kind; expected kind: SandboxProfile", count: 2},
		{name: "no metadata.name", profile: prof("  name: p", "  labels: {a: b}"), want: "profiles/p.yaml:4:3", frag: "metadata has no name", count: 2},
		{name: "duplicate profile names", extra: map[string]func(*testing.T) string{"profiles/q.yaml": kmRaw(baseProfile)}, want: "profiles/q.yaml:4:9", frag: `duplicate profile name "p" (also in profiles/p.yaml:4:9)`},
		{name: "github section empty", profile: prof("    github:\n      allowedRepos: [my-user/my-repo, my-org/*]\n      allowedRefs: [main, \"release/*\"]\n      permissions: [clone, fetch, push]\n", "    github:\n"), want: "profiles/p.yaml:8:5", frag: "spec.sourceAccess.github is empty"},
		{name: "profile without github used by a sandbox", profile: prof("  sourceAccess:\n    github:\n      allowedRepos: [my-user/my-repo, my-org/*]\n      allowedRefs: [main, \"release/*\"]\n      permissions: [clone, fetch, push]\n", "  budget: {usd: 5}\n"), want: "km.yaml:9:14", frag: `profile "p" (profiles/p.yaml:4:9) has no spec.sourceAccess.github`},
		{name: "empty profile file", extra: map[string]func(*testing.T) string{"profiles/empty.yaml": kmRaw("# nothing\n")}, want: "profiles/empty.yaml:1:1", frag: "the file holds no YAML document; expected a SandboxProfile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"km.yaml": baseKM, "profiles/p.yaml": baseProfile}
			if c.km != nil {
				files["km.yaml"] = c.km(t)
			}
			if c.profile != nil {
				files["profiles/p.yaml"] = c.profile(t)
			}
			for name, f := range c.extra {
				files[name] = f(t)
			}
			inTempDir(t, files)
			_, err := Load("km.yaml")
			list := mustErrors(t, err)
			want := max(c.count, 1)
			if len(list) != want {
				t.Errorf("got %d errors, want %d:\n%v", len(list), want, err)
			}
			for _, e := range list {
				if posOf(e) == c.want && strings.Contains(e.Msg, c.frag) {
					if !strings.HasPrefix(e.Error(), c.want+": ") {
						t.Errorf("Error() = %q, want it to start with %q", e.Error(), c.want+": ")
					}
					return
				}
			}
			t.Errorf("no error at %s containing %q; got:\n%v", c.want, c.frag, err)
		})
	}
}

// TestLoadNoAppIsErrGitHubNotConfigured: the load error for a km.yaml without an
// App is the seed's sentinel, so callers can tell it apart with errors.Is.
func TestLoadNoAppIsErrGitHubNotConfigured(t *testing.T) {
	for _, tc := range []struct {
		name, km string
		want     bool
	}{
		{"no github section", "sandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n", true},
		{"App without installations", "github:\n  appClientId: Iv1.abc123\nsandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inTempDir(t, map[string]string{"km.yaml": tc.km, "profiles/p.yaml": baseProfile})
			_, err := Load("km.yaml")
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if got := errors.Is(err, ErrGitHubNotConfigured); got != tc.want {
				t.Errorf("errors.Is(err, ErrGitHubNotConfigured) = %v, want %v: %v", got, tc.want, err)
			}
		})
	}
}

// TestLoadForSetup: km github and km configure github load km.yaml without the
// App and installation checks they exist to fix, and with every other check.
func TestLoadForSetup(t *testing.T) {
	for _, tc := range []struct {
		name, km string
		wantErr  string // "" means it loads
	}{
		{"no github section, sandboxes declared", "sandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n", ""},
		{"App without installations", "github:\n  appClientId: Iv1.abc123\nsandboxes:\n  - id: sb-1\n    profile: p\n    principal: arn:aws:iam::123456789012:role/r1\n", ""},
		{"other errors still reported", "regoin: us-east-1\nsandboxes:\n  - id: sb-1\n    profile: q\n    principal: arn:aws:iam::123456789012:role/r1\n", `km.yaml:1:1: km.yaml: unknown key "regoin"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inTempDir(t, map[string]string{"km.yaml": tc.km, "profiles/p.yaml": baseProfile})
			cfg, err := LoadForSetup("km.yaml")
			if tc.wantErr == "" {
				if err != nil || len(cfg.Sandboxes) != 1 {
					t.Fatalf("LoadForSetup: %v", err)
				}
				if _, err := Load("km.yaml"); err == nil {
					t.Error("Load accepted it too: the case does not exercise the setup checks")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `profile "q" not found`) {
				t.Errorf("LoadForSetup error %v, want %q and the missing profile", err, tc.wantErr)
			}
		})
	}
}
