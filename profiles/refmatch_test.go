package profiles

import (
	"math/rand/v2"
	"os/exec"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

var matchRefCases = []struct {
	pattern, ref string
	want         bool
}{
	{"main", "main", true},
	{"main", "mainx", false},
	{"main", "xmain", false},
	{"main", "Main", false},
	{"release/*", "release/v2", true},
	{"release/*", "release/v2/hotfix", true}, // * crosses /
	{"release/*", "release/", true},
	{"release/*", "release", false},
	{"*", "", true},
	{"*", "any/thing/at/all", true},
	{"v*", "v1.2.3", true},
	{"v*", "dev", false},
	{"*-fix", "feature/a-fix", true},
	{"*a*b*", "xxaxxbxx", true},
	{"*a*b*", "xxbxxaxx", false},
	{"?", "a", true},
	{"?", "", false},
	{"?", "ab", false},
	{"?", "é", true}, // one character, two bytes
	{"feat/??", "feat/ab", true},
	{"[abc]x", "bx", true},
	{"[abc]x", "dx", false},
	{"[a-c]x", "cx", true},
	{"[a-c]x", "Cx", false},
	{"[!a-c]x", "dx", true},
	{"[!a-c]x", "ax", false},
	{"[^a-c]x", "dx", true},
	{"[^a-c]x", "bx", false},
	{"[]a]", "]", true},
	{"[]a]", "a", true},
	{"[!]a]", "]", false},
	{"[!]a]", "b", true},
	{"[a-]", "-", true},
	{"[-a]", "-", true},
	{"[a\\]]", "]", true},
	{"[[:digit:]]*", "1abc", true},
	{"[[:digit:]]*", "abc", false},
	{"[[:alpha:]-]x", "-x", true},
	{"[[:upper:]]", "Q", true},
	{"[[:punct:]]", "+", true},
	{"\\*", "*", true},
	{"\\*", "a", false},
	{"a\\?", "a?", true},
	{"a\\?", "ab", false},
	{"\\[x]", "[x]", true},
	{"a[", "a[", true}, // unbalanced [ is literal
	{"a[b", "a[b", true},
	{"a[b", "ab", false},
	{"[z-a]", "b", false},
	{"a\\", "a\\", true}, // trailing backslash is literal
	{"release/v[0-9]*", "release/v10", true},
	{"release/v[0-9]*", "release/vx", false},
	{"**", "a/b", true},
	{"a*", "a", true},
	{"*/*", "a/b", true},
	{"*/*", "ab", false},
}

func TestMatchRef(t *testing.T) {
	for _, c := range matchRefCases {
		if got := MatchRef(c.pattern, c.ref); got != c.want {
			t.Errorf("MatchRef(%q, %q) = %v, want %v", c.pattern, c.ref, got, c.want)
		}
	}
}

// TestMatchRefAgreesWithBash runs every table case through bash's [[ ref == pattern ]],
// the matcher the pre-push hook semantics are defined by.
func TestMatchRefAgreesWithBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed as the reference matcher: %v", err)
	}
	var script strings.Builder
	for i, c := range matchRefCases {
		// Each case: pattern in a variable, used unquoted on the right of ==.
		script.WriteString("p=" + shellQuote(c.pattern) + "; r=" + shellQuote(c.ref) + "; if [[ $r == $p ]]; then echo 1; else echo 0; fi\n")
		_ = i
	}
	cmd := exec.Command(bash, "-c", script.String())
	cmd.Env = []string{"LC_ALL=C.UTF-8", "PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running bash: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(matchRefCases) {
		t.Fatalf("bash printed %d results for %d cases", len(lines), len(matchRefCases))
	}
	for i, c := range matchRefCases {
		bashSays := lines[i] == "1"
		if bashSays != c.want {
			t.Errorf("table is wrong for pattern %q ref %q: bash says %v", c.pattern, c.ref, bashSays)
		}
	}
}

// TestMatchRefAgreesWithBashRandom compares MatchRef with bash on generated
// patterns over a small alphabet rich in glob syntax (a fixed seed keeps it
// reproducible).
func TestMatchRefAgreesWithBashRandom(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed as the reference matcher: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(alphabet string, maxLen int) string {
		n := rng.IntN(maxLen + 1)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	type pair struct{ pattern, ref string }
	var pairs []pair
	var script strings.Builder
	for len(pairs) < 3000 {
		p := gen(`ab/-*?[]!^\\`, 8)
		r := gen(`ab/-*?[]!^\\`, 6)
		if rng.IntN(2) == 0 {
			r = gen("ab/-", 6)
		}
		if n := len(p) - len(strings.TrimRight(p, "\\")); n%2 == 1 {
			// A lone trailing backslash: bash is inconsistent here (a\ matches
			// "a\" but *\ does not match "\"); ValidateRefPattern rejects it.
			continue
		}
		pairs = append(pairs, pair{p, r})
		script.WriteString("p=" + shellQuote(p) + "; r=" + shellQuote(r) + "; if [[ $r == $p ]]; then echo 1; else echo 0; fi\n")
	}
	cmd := exec.Command(bash, "-s")
	cmd.Stdin = strings.NewReader(script.String())
	cmd.Env = []string{"LC_ALL=C.UTF-8", "PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running bash: %v", err)
	}
	results := strings.Fields(string(out))
	if len(results) != len(pairs) {
		t.Fatalf("bash printed %d results for %d pairs", len(results), len(pairs))
	}
	for i, c := range pairs {
		if got, want := MatchRef(c.pattern, c.ref), results[i] == "1"; got != want {
			t.Errorf("MatchRef(%q, %q) = %v, bash says %v", c.pattern, c.ref, got, want)
		}
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestRefAllowed(t *testing.T) {
	cases := []struct {
		patterns []string
		ref      string
		want     bool
	}{
		{nil, "anything", true},
		{[]string{}, "dev", true},
		{[]string{"main", "release/*"}, "main", true},
		{[]string{"main", "release/*"}, "release/v2", true},
		{[]string{"main", "release/*"}, "dev", false},
	}
	for _, c := range cases {
		if got := RefAllowed(c.patterns, c.ref); got != c.want {
			t.Errorf("RefAllowed(%q, %q) = %v, want %v", c.patterns, c.ref, got, c.want)
		}
	}
}

func TestValidateRefPattern(t *testing.T) {
	cases := []struct {
		pattern string
		frag    string // "" means valid
	}{
		{"main", ""},
		{"release/*", ""},
		{"v[0-9]*", ""},
		{"[!a]x", ""},
		{"[[:digit:]]", ""},
		{`\[literal`, ""},
		{"", "empty"},
		{"release/[v", "no closing ]"},
		{"a[", "no closing ]"},
		{"[z-a]", "reversed"},
		{"[[:nope:]]", "unknown character class"},
		{`main\`, "lone backslash"},
		{"my branch", "whitespace"},
		{"@(main|dev)", "extended-glob"},
		{"+(a)", "extended-glob"},
		{"x\xff", "UTF-8"},
	}
	for _, c := range cases {
		err := ValidateRefPattern(c.pattern)
		switch {
		case c.frag == "" && err != nil:
			t.Errorf("ValidateRefPattern(%q) = %v, want nil", c.pattern, err)
		case c.frag != "" && (err == nil || !strings.Contains(err.Error(), c.frag)):
			t.Errorf("ValidateRefPattern(%q) = %v, want an error containing %q", c.pattern, err, c.frag)
		}
	}
}

// escapeGlob makes a pattern that matches exactly s.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pathMatchAgrees compares with path.Match where the two definitions coincide:
// no '/' anywhere (path.Match's * stops at /), no '!' (bash negation that
// path.Match reads literally), no [:class:] (path.Match has none), and patterns
// path.Match accepts.
func pathMatchAgrees(pattern, ref string) (agree, comparable bool) {
	if strings.ContainsAny(pattern+ref, "/!") || strings.Contains(pattern, "[:") || strings.Contains(pattern, "[=") || strings.Contains(pattern, "[.") ||
		!utf8.ValidString(pattern) || !utf8.ValidString(ref) {
		return true, false
	}
	if ValidateRefPattern(pattern) != nil {
		return true, false
	}
	want, err := path.Match(pattern, ref)
	if err != nil {
		return true, false
	}
	return MatchRef(pattern, ref) == want, true
}

func FuzzMatchRef(f *testing.F) {
	for _, c := range matchRefCases {
		f.Add(c.pattern, c.ref)
	}
	f.Fuzz(func(t *testing.T, pattern, ref string) {
		// Invariants that hold for every input.
		if !MatchRef("*", ref) {
			t.Fatalf("* does not match %q", ref)
		}
		if !MatchRef(escapeGlob(ref), ref) {
			t.Fatalf("escaped %q does not match itself", ref)
		}
		if utf8.ValidString(pattern) && utf8.ValidString(ref) {
			if MatchRef(escapeGlob(pattern), ref) != (pattern == ref) {
				t.Fatalf("escaped pattern %q vs ref %q: a literal pattern must match by equality", pattern, ref)
			}
			if !strings.ContainsAny(pattern, `*?[\`) && MatchRef(pattern, ref) != (pattern == ref) {
				t.Fatalf("literal pattern %q vs %q disagrees with equality", pattern, ref)
			}
		}
		if ValidateRefPattern(pattern) == nil && MatchRef(pattern, ref) && !MatchRef(pattern+"*", ref+"tail") {
			t.Fatalf("%q matches %q but %q does not match %q", pattern, ref, pattern+"*", ref+"tail")
		}
		if agree, ok := pathMatchAgrees(pattern, ref); ok && !agree {
			t.Fatalf("MatchRef(%q, %q) = %v disagrees with path.Match", pattern, ref, MatchRef(pattern, ref))
		}
	})
}
