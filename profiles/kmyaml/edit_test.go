package kmyaml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/atomicfile"
	"github.com/klankermaker/km/profiles"
)

const armX = "arn:aws:iam::123456789012:role/x"

// onlyInserted asserts that got is orig with one contiguous block inserted, or
// (when removed) orig with one contiguous block taken out: every other byte is
// identical, in place.
func onlyInserted(t *testing.T, orig, got string, removed bool) {
	t.Helper()
	if removed {
		orig, got = got, orig
	}
	p := 0
	for p < len(orig) && p < len(got) && orig[p] == got[p] {
		p++
	}
	s := 0
	for s < len(orig)-p && s < len(got)-p && orig[len(orig)-1-s] == got[len(got)-1-s] {
		s++
	}
	if p+s != len(orig) {
		t.Errorf("bytes outside the edited entry changed:\norig:\n%s\ngot:\n%s", orig, got)
	}
}

func editFixture(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "km.yaml")
	if content != "\x00missing" {
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAddSandbox(t *testing.T) {
	sbB := profiles.Sandbox{ID: "sb-b", Profile: "p", Principal: armX}
	cases := []struct {
		name   string
		before string
		sb     profiles.Sandbox
		after  string
		splice bool // a pure insertion: every other byte kept
	}{
		{
			name: "block list with comments",
			before: `# km config
region: us-east-1   # where
sandboxes:
  # first one
  - id: sb-a        # a
    profile: p
    # trailing note about a

# refresher below
refresher:
  memoryMB: 128
`,
			sb: profiles.Sandbox{ID: "sb-b", Profile: "p", Principal: armX},
			after: `# km config
region: us-east-1   # where
sandboxes:
  # first one
  - id: sb-a        # a
    profile: p
    # trailing note about a
  - id: sb-b
    profile: p
    principal: arn:aws:iam::123456789012:role/x

# refresher below
refresher:
  memoryMB: 128
`,
			splice: true,
		},
		{
			name:   "compact list, no final newline",
			before: "sandboxes:\n- id: sb-a\n  profile: p",
			sb:     sbB,
			after:  "sandboxes:\n- id: sb-a\n  profile: p\n- id: sb-b\n  profile: p\n  principal: arn:aws:iam::123456789012:role/x\n",
			splice: true,
		},
		{
			name:   "wide indentation is followed",
			before: "sandboxes:\n    -   id: sb-a\n        profile: p\nregion: us-east-1\n",
			sb:     sbB,
			after:  "sandboxes:\n    -   id: sb-a\n        profile: p\n    -   id: sb-b\n        profile: p\n        principal: arn:aws:iam::123456789012:role/x\nregion: us-east-1\n",
			splice: true,
		},
		{
			name:   "dash on its own line",
			before: "sandboxes:\n  -\n    id: sb-a\n    profile: p\n",
			sb:     sbB,
			after:  "sandboxes:\n  -\n    id: sb-a\n    profile: p\n  - id: sb-b\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\n",
			splice: true,
		},
		{
			name:   "key absent",
			before: "region: us-east-1 # r",
			sb:     sbB,
			after:  "region: us-east-1 # r\nsandboxes:\n  - id: sb-b\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\n",
			splice: true,
		},
		{
			name:   "empty file",
			before: "",
			sb:     sbB,
			after:  "sandboxes:\n  - id: sb-b\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\n",
			splice: true,
		},
		{
			name:   "empty flow list",
			before: "sandboxes: []  # none yet\nregion: us-east-1\n",
			sb:     sbB,
			after:  "sandboxes:   # none yet\n  - id: sb-b\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\nregion: us-east-1\n",
		},
		{
			name:   "null value with an indented comment",
			before: "sandboxes:\n  # add sandboxes with km create\nregion: us-east-1\n",
			sb:     sbB,
			after:  "sandboxes:\n  # add sandboxes with km create\n  - id: sb-b\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\nregion: us-east-1\n",
			splice: true,
		},
		{
			name:   "explicit null",
			before: "sandboxes: ~\n",
			sb:     sbB,
			after:  "sandboxes:\n  - id: sb-b\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\n",
		},
		{
			name:   "CRLF line endings",
			before: "region: us-east-1\r\nsandboxes:\r\n  - id: sb-a\r\n    profile: p\r\n",
			sb:     sbB,
			after:  "region: us-east-1\r\nsandboxes:\r\n  - id: sb-a\r\n    profile: p\r\n  - id: sb-b\r\n    profile: p\r\n    principal: arn:aws:iam::123456789012:role/x\r\n",
			splice: true,
		},
		{
			name:   "flow root falls back to node editing",
			before: "{region: us-east-1}\n",
			sb:     sbB,
			after:  "{region: us-east-1, sandboxes: [{id: sb-b, profile: p, principal: 'arn:aws:iam::123456789012:role/x'}]}\n",
		},
		{
			name:   "flow list falls back to node editing",
			before: "region: us-east-1 # the region\nsandboxes: [{id: sb-a, profile: p}]\n",
			sb:     sbB,
			after:  "region: us-east-1 # the region\nsandboxes: [{id: sb-a, profile: p}, {id: sb-b, profile: p, principal: 'arn:aws:iam::123456789012:role/x'}]\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := editFixture(t, c.before)
			orig, err := AddSandbox(p, c.sb)
			if err != nil {
				t.Fatalf("AddSandbox: %v", err)
			}
			if string(orig) != c.before {
				t.Errorf("returned original %q, want %q", orig, c.before)
			}
			got := readString(t, p)
			if got != c.after {
				t.Errorf("after AddSandbox:\n%s\nwant:\n%s", got, c.after)
			}
			if c.splice {
				onlyInserted(t, c.before, got, false)
			}
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the original 0640", st.Mode().Perm())
			}
		})
	}
}

func TestAddSandboxRefuses(t *testing.T) {
	const before = "prefix: a-very-long-prefix-for-names\nsandboxes:\n  - id: sb-a\n    profile: p\n"
	cases := []struct {
		name string
		sb   profiles.Sandbox
		frag string
	}{
		{"duplicate id", profiles.Sandbox{ID: "sb-a", Profile: "p", Principal: armX}, "sandbox sb-a is already declared at line 3"},
		{"malformed id", profiles.Sandbox{ID: "SB", Profile: "p", Principal: armX}, `sandbox id "SB" is malformed`},
		{"id too long for this prefix", profiles.Sandbox{ID: strings.Repeat("x", 30), Profile: "p", Principal: armX}, "EventBridge Scheduler allows 64"},
		{"no profile", profiles.Sandbox{ID: "sb-b", Principal: armX}, "profile name"},
		{"bad principal", profiles.Sandbox{ID: "sb-b", Profile: "p", Principal: "me"}, `principal "me" is not an IAM role or user ARN`},
		{"no principal", profiles.Sandbox{ID: "sb-b", Profile: "p"}, "the sandbox has no principal; expected the ARN of the IAM role or user that alone may read its token (km create --principal"},
		{"root principal", profiles.Sandbox{ID: "sb-b", Profile: "p", Principal: "arn:aws:iam::123456789012:root"}, "is an account root"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := editFixture(t, before)
			_, err := AddSandbox(p, c.sb)
			if err == nil || !strings.Contains(err.Error(), c.frag) {
				t.Fatalf("AddSandbox = %v, want an error containing %q", err, c.frag)
			}
			if got := readString(t, p); got != before {
				t.Errorf("file changed after a refused edit:\n%s", got)
			}
		})
	}
	if _, err := AddSandbox(filepath.Join(t.TempDir(), "none.yaml"), profiles.Sandbox{ID: "sb-a", Profile: "p", Principal: armX}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("AddSandbox on a missing file = %v, want not-exist", err)
	}
}

func TestRemoveSandbox(t *testing.T) {
	three := `# sandboxes
sandboxes:
  - id: sb-a   # first
    profile: p
  # b is for the demo
  - id: sb-b
    profile: p
    principal: arn:aws:iam::123456789012:role/x
    # note about b
  - id: sb-c
    profile: p
# end of sandboxes
region: us-east-1
`
	cases := []struct {
		name, before, id, after string
		splice                  bool
	}{
		{"middle entry with its inner comment", three, "sb-b", strings.Replace(three, "  - id: sb-b\n    profile: p\n    principal: arn:aws:iam::123456789012:role/x\n    # note about b\n", "", 1), true},
		{"first entry", three, "sb-a", strings.Replace(three, "  - id: sb-a   # first\n    profile: p\n", "", 1), true},
		{"last entry before a comment and a key", three, "sb-c", strings.Replace(three, "  - id: sb-c\n    profile: p\n", "", 1), true},
		{"only entry", "region: us-east-1\nsandboxes:\n  - id: sb-a\n    profile: p\n", "sb-a", "region: us-east-1\nsandboxes:\n", true},
		{"dash on its own line", "sandboxes:\n  -\n    id: sb-a\n    profile: p\n  - id: sb-b\n    profile: p\n", "sb-a", "sandboxes:\n  - id: sb-b\n    profile: p\n", true},
		{"compact list", "sandboxes:\n- id: sb-a\n  profile: p\n- id: sb-b\n  profile: p\n", "sb-b", "sandboxes:\n- id: sb-a\n  profile: p\n", true},
		{"flow list falls back to node editing", "# c\nsandboxes: [{id: sb-a, profile: p}, {id: sb-b, profile: p}]\n", "sb-a", "# c\nsandboxes: [{id: sb-b, profile: p}]\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := editFixture(t, c.before)
			orig, err := RemoveSandbox(p, c.id)
			if err != nil {
				t.Fatalf("RemoveSandbox: %v", err)
			}
			if string(orig) != c.before {
				t.Error("returned original differs from the file before the edit")
			}
			got := readString(t, p)
			if got != c.after {
				t.Errorf("after RemoveSandbox:\n%s\nwant:\n%s", got, c.after)
			}
			if c.splice {
				onlyInserted(t, c.before, got, true)
			}
		})
	}

	p := editFixture(t, three)
	_, err := RemoveSandbox(p, "sb-x")
	if !errors.Is(err, ErrSandboxNotFound) || !strings.Contains(err.Error(), "declared: sb-a, sb-b, sb-c") {
		t.Errorf("RemoveSandbox(unknown) = %v, want ErrSandboxNotFound listing the ids", err)
	}
	if readString(t, p) != three {
		t.Error("file changed after a failed removal")
	}
}

// TestEditRoundTrip adds and removes a sandbox in the documented example and
// restores the original with atomicfile.Write: the result loads, and the
// restore is byte-exact.
func TestEditRoundTrip(t *testing.T) {
	example, err := os.ReadFile("../../km.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := os.ReadFile("../../examples/profiles/my-profile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string][]byte{"km.yaml": example, "examples/profiles/my-profile.yaml": prof} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	p := filepath.Join(dir, "km.yaml")
	orig, err := AddSandbox(p, profiles.Sandbox{ID: "sb-new", Profile: "my-profile", Principal: armX})
	if err != nil {
		t.Fatal(err)
	}
	onlyInserted(t, string(example), readString(t, p), false)
	c, err := profiles.Load("km.yaml")
	if err != nil {
		t.Fatalf("Load after AddSandbox: %v", err)
	}
	if sb, ok := c.Sandbox("sb-new"); !ok || sb.Principal != armX || sb.Profile != "my-profile" {
		t.Errorf("added sandbox = %+v, %v", sb, ok)
	}
	if _, err := RemoveSandbox(p, "sb-7f3a9c"); err != nil {
		t.Fatal(err)
	}
	c, err = profiles.Load("km.yaml")
	if err != nil {
		t.Fatalf("Load after RemoveSandbox: %v", err)
	}
	if len(c.Sandboxes) != 1 || c.Sandboxes[0].ID != "sb-new" {
		t.Errorf("sandboxes = %+v, want only sb-new", c.Sandboxes)
	}
	if err := atomicfile.Write(p, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if readString(t, p) != string(example) {
		t.Error("restoring the original bytes is not byte-exact")
	}
}

func ptr[T any](v T) *T { return &v }

func TestSetGitHub(t *testing.T) {
	cases := []struct {
		name, before string
		u            GitHubUpdate
		after        string
	}{
		{
			name: "update and add inside an existing section",
			before: `region: us-east-1
github:
  appClientId: "Iv1.old"   # from the App page
  installations:
    My-Org: 1      # the org
    me: 2
  # webURL stays default
sandboxes: []
`,
			u: GitHubUpdate{AppClientID: ptr("Iv1.new"), AppID: ptr[int64](42), Installations: map[string]int64{"my-org": 10, "new-org": 30}},
			after: `region: us-east-1
github:
  appClientId: Iv1.new   # from the App page
  installations:
    My-Org: 10      # the org
    me: 2
    new-org: 30
  # webURL stays default
  appId: 42
sandboxes: []
`,
		},
		{
			name:   "section absent",
			before: "region: us-east-1\n",
			u:      GitHubUpdate{AppClientID: ptr("Iv1.x"), PrivateKeyFile: ptr("keys/app.pem"), Installations: map[string]int64{"b-org": 2, "a-user": 1}},
			after:  "region: us-east-1\ngithub:\n  appClientId: Iv1.x\n  privateKeyFile: keys/app.pem\n  installations:\n    a-user: 1\n    b-org: 2\n",
		},
		{
			name:   "file missing",
			before: "\x00missing",
			u:      GitHubUpdate{Installations: map[string]int64{"me": 5}},
			after:  "github:\n  installations:\n    me: 5\n",
		},
		{
			name:   "null section with a comment",
			before: "github:   # fill in with km configure github\nsandboxes:\n",
			u:      GitHubUpdate{AppClientID: ptr("Iv1.x")},
			after:  "github:   # fill in with km configure github\n  appClientId: Iv1.x\nsandboxes:\n",
		},
		{
			name:   "empty installations mapping and empty key file",
			before: "github:\n  appClientId: Iv1.x\n  privateKeyFile:\n  installations: {}\n  defaultInstallation: me\n",
			u:      GitHubUpdate{PrivateKeyFile: ptr("app.pem"), Installations: map[string]int64{"me": 7}},
			after:  "github:\n  appClientId: Iv1.x\n  privateKeyFile: app.pem\n  installations:\n    me: 7\n  defaultInstallation: me\n",
		},
		{
			name:   "numeric-looking values are quoted",
			before: "github:\n  appClientId: Iv1.x\n",
			u:      GitHubUpdate{AppClientID: ptr("12345"), Installations: map[string]int64{"007": 1}},
			after:  "github:\n  appClientId: \"12345\"\n  installations:\n    \"007\": 1\n",
		},
		{
			name:   "flow installations fall back to node editing",
			before: "github:\n  appClientId: Iv1.x # id\n  installations: {Me: 1}\n",
			u:      GitHubUpdate{AppClientID: ptr("Iv1.y"), Installations: map[string]int64{"me": 2, "you": 3}},
			after:  "github:\n  appClientId: Iv1.y # id\n  installations: {Me: 2, you: 3}\n",
		},
		{
			name:   "flow root falls back to node editing",
			before: "{region: us-east-1}\n",
			u:      GitHubUpdate{Installations: map[string]int64{"me": 2}},
			after:  "{region: us-east-1, github: {installations: {me: 2}}}\n",
		},
		{
			name:   "flow section falls back to node editing",
			before: "# config\ngithub: {appClientId: Iv1.x}\n",
			u:      GitHubUpdate{AppID: ptr[int64](9)},
			after:  "# config\ngithub: {appClientId: Iv1.x, appId: 9}\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := editFixture(t, c.before)
			orig, err := SetGitHub(p, c.u)
			if err != nil {
				t.Fatalf("SetGitHub: %v", err)
			}
			wantOrig := c.before
			if c.before == "\x00missing" {
				wantOrig = ""
				if orig != nil {
					t.Errorf("original = %q, want nil for a created file", orig)
				}
			}
			if string(orig) != wantOrig {
				t.Errorf("original = %q, want %q", orig, wantOrig)
			}
			if got := readString(t, p); got != c.after {
				t.Errorf("after SetGitHub:\n%s\nwant:\n%s", got, c.after)
			}
		})
	}
}

func TestSetGitHubRefuses(t *testing.T) {
	cases := []struct {
		name, before string
		u            GitHubUpdate
		frag         string
	}{
		{"bad account", "", GitHubUpdate{Installations: map[string]int64{"bad_name": 1}}, "not a GitHub account login"},
		{"bad id", "", GitHubUpdate{Installations: map[string]int64{"me": 0}}, "expected a positive integer"},
		{"bad app id", "", GitHubUpdate{AppID: ptr[int64](-1)}, "expected a positive integer"},
		{"github not a mapping", "github: [a]\n", GitHubUpdate{AppID: ptr[int64](1)}, "github: found a list at line 1; expected a mapping"},
		{"not YAML", "github: {a\n", GitHubUpdate{AppID: ptr[int64](1)}, "is not valid YAML"},
		{"two documents", "a: 1\n---\nb: 2\n", GitHubUpdate{AppID: ptr[int64](1)}, "more than one YAML document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := editFixture(t, c.before)
			_, err := SetGitHub(p, c.u)
			if err == nil || !strings.Contains(err.Error(), c.frag) {
				t.Fatalf("SetGitHub = %v, want an error containing %q", err, c.frag)
			}
			if readString(t, p) != c.before {
				t.Error("file changed after a refused edit")
			}
		})
	}
}
