package repocheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/testkeys"
)

// repoRoot is the top of the git work tree holding this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse --show-toplevel: %v (the check reads `git ls-files`; run it inside the repository)", err)
	}
	return strings.TrimSpace(string(out))
}

func loadAllowList(t *testing.T, root string) AllowList {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".gitleaks.toml"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAllowList(".gitleaks.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestNoKeyMaterialCommitted scans every file `git ls-files` lists for a PEM
// private key, a GitHub token or an AWS access key id outside .gitleaks.toml's
// allow-list, and fails naming file:line. It also fails when an allow-listed
// path no longer exists (a stale entry would hide whatever lands there later).
func TestNoKeyMaterialCommitted(t *testing.T) {
	root := repoRoot(t)
	allow := loadAllowList(t, root)
	if len(allow.Paths) == 0 || len(allow.Regexes) == 0 {
		t.Fatalf(".gitleaks.toml: no allowlist paths or regexes parsed")
	}
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 50 {
		t.Fatalf("git ls-files listed %d files", len(files))
	}
	used := make([]bool, len(allow.Paths))
	scanned := 0
	for _, f := range files {
		skip := false
		for i, re := range allow.Paths {
			if re.MatchString(f) {
				used[i], skip = true, true
			}
		}
		if skip {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		scanned++
		for _, x := range Scan(f, data, allow) {
			t.Errorf("%s: key-looking material committed; remove it (generate test keys with internal/testkeys at test time) or, if it is a published example, allow-list it in .gitleaks.toml with the reason", x)
		}
	}
	for i, u := range used {
		if !u {
			t.Errorf(".gitleaks.toml: allow-listed path %q matches no committed file; remove the entry", allow.Paths[i])
		}
	}
	t.Logf("scanned %d of %d committed files", scanned, len(files))
}

// TestScan: the detector flags real-looking material and lets stubs and
// allow-listed example values through. Inputs are built at run time so that
// this file holds nothing key-looking itself.
func TestScan(t *testing.T) {
	pemText := string(testkeys.NewPEM(t, false))
	pkcs8 := string(testkeys.NewPEM(t, true))
	tok := func(prefix, body string) string { return prefix + "_" + body }
	random36 := "Zq" + strings.Repeat("x7Kp", 8) + "L1"
	allow, err := ParseAllowList("test.toml", []byte("[allowlist]\npaths = [\n  '''^fixtures/'''\n]\nregexes = [\n  '''ghs_0{36}''' # zeros\n]\n"))
	if err != nil {
		t.Fatal(err)
	}
	goQuoted := strings.ReplaceAll(strings.TrimSpace(pkcs8), "\n", `\n`)
	for _, tc := range []struct {
		name, text string
		want       []string // Finding.String() of each, in order
	}{
		{"PKCS#1 PEM file", "x\n" + pemText, []string{"f:2: PEM private key (64+ base64 characters)"}},
		{"PKCS#8 in a Go string", "const k = \"" + goQuoted + "\"\n", []string{"f:1: PEM private key (64+ base64 characters)"}},
		{"PEM stub in a redaction test", `s := "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----"`, nil},
		{"public key", strings.Replace(pemText, "RSA PRIVATE", "PUBLIC", 2), nil},
		{"installation token", "a\nb " + tok("ghs", random36) + "\n", []string{"f:2: GitHub token ghs_Zq…"}},
		{"personal token", tok("ghp", random36), []string{"f:1: GitHub token ghp_Zq…"}},
		{"fine-grained token", tok("github_pat", strings.Repeat("A1b_", 20)+"zz"), []string{"f:1: GitHub token github…"}},
		{"token too short", tok("ghs", "abc"), nil},
		{"allow-listed token", tok("ghs", strings.Repeat("0", 36)), nil},
		{"AWS key id", "id: AKIA" + "Z2Y3X4W5V6U7T2S3\n", []string{"f:1: AWS access key id AKIAZ2…"}},
		{"kumo's dummy key id", "AKIDKUMOTEST", nil},
		{"binary", "\x00" + tok("ghs", random36), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range Scan("f", []byte(tc.text), allow) {
				got = append(got, f.String())
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("Scan = %q, want %q", got, tc.want)
			}
		})
	}
	if !allow.PathAllowed("fixtures/a.json") || allow.PathAllowed("src/fixtures/a.json") {
		t.Error("path allow-list: ^fixtures/ should match fixtures/a.json only")
	}
}

// TestParseAllowListErrors: a malformed allow-list names the line.
func TestParseAllowListErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not a literal", "[allowlist]\npaths = [\n  \"a\"\n]\n", "x.toml:3: expected a '''literal''' string or ] in paths"},
		{"bad regexp", "[allowlist]\nregexes = [\n  '''a(''',\n]\n", "x.toml:3: regexes entry is not a regular expression"},
		{"unclosed", "[allowlist]\npaths = [\n  '''a'''\n", "x.toml: the paths array is not closed; expected ]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAllowList("x.toml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
