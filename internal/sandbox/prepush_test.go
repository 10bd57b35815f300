package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/klankermaker/km/profiles"
)

const (
	sha1 = "1111111111111111111111111111111111111111"
	sha2 = "2222222222222222222222222222222222222222"
	zero = "0000000000000000000000000000000000000000"
)

func TestParsePushUpdates(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []PushUpdate
		wantErr bool
	}{
		{name: "nothing to push", in: ""},
		{name: "one branch", in: "refs/heads/main " + sha1 + " refs/heads/main " + sha2 + "\n",
			want: []PushUpdate{{"refs/heads/main", sha1, "refs/heads/main", sha2}}},
		{name: "no trailing newline, CRLF, blank lines", in: "\nrefs/heads/a " + sha1 + " refs/heads/b " + zero + "\r\n\nHEAD " + sha1 + " refs/tags/v1 " + zero,
			want: []PushUpdate{{"refs/heads/a", sha1, "refs/heads/b", zero}, {"HEAD", sha1, "refs/tags/v1", zero}}},
		{name: "deletion", in: "(delete) " + zero + " refs/heads/dev " + sha1 + "\n",
			want: []PushUpdate{{"(delete)", zero, "refs/heads/dev", sha1}}},
		{name: "three fields", in: "refs/heads/main " + sha1 + " refs/heads/main\n", wantErr: true},
		{name: "five fields", in: "refs/heads/main " + sha1 + " refs/heads/main " + sha2 + " x\n", wantErr: true},
		{name: "double space", in: "refs/heads/main  " + sha1 + " refs/heads/main " + sha2 + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePushUpdates(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPushUpdateNameAndDeletion(t *testing.T) {
	tests := []struct {
		u        PushUpdate
		name     string
		deletion bool
	}{
		{PushUpdate{"refs/heads/main", sha1, "refs/heads/main", sha2}, "main", false},
		{PushUpdate{"refs/heads/x", sha1, "refs/heads/release/a/b", zero}, "release/a/b", false},
		{PushUpdate{"refs/tags/v1", sha1, "refs/tags/v1", zero}, "refs/tags/v1", false},
		{PushUpdate{"refs/notes/commits", sha1, "refs/notes/commits", zero}, "refs/notes/commits", false},
		{PushUpdate{"(delete)", zero, "refs/heads/dev", sha1}, "dev", true},
		{PushUpdate{"refs/heads/main", strings.Repeat("0", 64), "refs/heads/dev", sha1}, "dev", true},
	}
	for _, tt := range tests {
		if got := tt.u.Name(); got != tt.name {
			t.Errorf("%+v Name() = %q, want %q", tt.u, got, tt.name)
		}
		if got := tt.u.Deletion(); got != tt.deletion {
			t.Errorf("%+v Deletion() = %v, want %v", tt.u, got, tt.deletion)
		}
	}
}

// TestPrePushDecision is the hook's decision table: allowedRefs with bash
// pattern semantics on the branch name, tags only by refs/tags/ patterns
// (profiles.PushRefAllowed), deletions included.
func TestPrePushDecision(t *testing.T) {
	line := func(local, remote string) string { return local + " " + sha1 + " " + remote + " " + sha2 + "\n" }
	del := func(remote string) string { return "(delete) " + zero + " " + remote + " " + sha1 + "\n" }
	refs := []string{"main", "release/*", "v*"}
	tests := []struct {
		name    string
		refs    []string
		push    bool
		in      string
		denied  []string // nil: allowed
		wantErr bool     // malformed input
	}{
		{name: "main", refs: refs, push: true, in: line("refs/heads/main", "refs/heads/main")},
		{name: "release/v2", refs: refs, push: true, in: line("refs/heads/x", "refs/heads/release/v2")},
		{name: "* crosses /", refs: refs, push: true, in: line("refs/heads/x", "refs/heads/release/a/b")},
		{name: "tag v1 is not allowed by v*", refs: refs, push: true, in: line("refs/tags/v1", "refs/tags/v1"), denied: []string{"refs/tags/v1"}},
		{name: "tag main is not the branch main", refs: refs, push: true, in: line("refs/heads/main", "refs/tags/main"), denied: []string{"refs/tags/main"}},
		{name: "tag v1 by refs/tags/v*", refs: []string{"main", "refs/tags/v*"}, push: true, in: line("refs/tags/v1", "refs/tags/v1")},
		{name: "tag deletion by refs/tags/v*", refs: []string{"refs/tags/v*"}, push: true, in: del("refs/tags/v1")},
		{name: "dev", refs: refs, push: true, in: line("refs/heads/dev", "refs/heads/dev"), denied: []string{"dev"}},
		{name: "release itself", refs: refs, push: true, in: line("refs/heads/x", "refs/heads/release"), denied: []string{"release"}},
		{name: "remote ref decides, not local", refs: refs, push: true, in: line("refs/heads/main", "refs/heads/dev"), denied: []string{"dev"}},
		{name: "main-old is not main", refs: refs, push: true, in: line("refs/heads/x", "refs/heads/main-old"), denied: []string{"main-old"}},
		{name: "deletion of dev", refs: refs, push: true, in: del("refs/heads/dev"), denied: []string{"dev"}},
		{name: "deletion of release/x", refs: refs, push: true, in: del("refs/heads/release/x")},
		{name: "other namespaces keep their full name", refs: refs, push: true, in: line("refs/notes/commits", "refs/notes/commits"), denied: []string{"refs/notes/commits"}},
		{name: "one bad ref denies the push, each named once", refs: refs, push: true,
			in:     line("refs/heads/main", "refs/heads/main") + line("refs/heads/a", "refs/heads/dev") + del("refs/heads/dev") + line("refs/heads/b", "refs/heads/feature/x"),
			denied: []string{"dev", "feature/x"}},
		{name: "no allowedRefs allows everything", push: true, in: line("refs/heads/dev", "refs/heads/dev") + del("refs/heads/x")},
		{name: "no push permission denies everything", refs: nil, push: false, in: line("refs/heads/main", "refs/heads/main"), denied: []string{"main"}},
		{name: "nothing to push", refs: refs, push: true, in: ""},
		{name: "malformed input fails closed", refs: refs, push: true, in: "garbage\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := twoOwners("https://github.com")
			s.AllowedRefs, s.Push = tt.refs, tt.push
			var stderr bytes.Buffer
			err := PrePush(s, strings.NewReader(tt.in), &stderr)
			switch {
			case tt.wantErr:
				if err == nil || errors.Is(err, ErrDenied) {
					t.Fatalf("PrePush = %v, want a parse error", err)
				}
			case tt.denied == nil:
				if err != nil || stderr.Len() != 0 {
					t.Fatalf("PrePush = %v (stderr %q), want allowed", err, stderr.String())
				}
			default:
				if !errors.Is(err, ErrDenied) {
					t.Fatalf("PrePush = %v, want ErrDenied", err)
				}
				var want strings.Builder
				for _, d := range tt.denied {
					fmt.Fprintf(&want, "[km] Push to '%s' denied\n", d)
				}
				if stderr.String() != want.String() {
					t.Errorf("stderr = %q, want exactly %q", stderr.String(), want.String())
				}
			}
		})
	}
}

// TestRefPatternsAreBashPatterns checks profiles.MatchRef, which the hook uses,
// against bash itself ([[ $ref == $pattern ]]), the semantics the profile promises.
func TestRefPatternsAreBashPatterns(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to check bash pattern semantics: %v", err)
	}
	cases := [][2]string{ // pattern, ref
		{"main", "main"}, {"main", "main2"}, {"main", "Main"}, {"main", "feature/main"},
		{"release/*", "release/v2"}, {"release/*", "release/a/b"}, {"release/*", "release/"}, {"release/*", "release"}, {"release/*", "xrelease/v2"},
		{"v*", "v1.2"}, {"v*", "v"}, {"v*", "dev"},
		{"*", "anything/at/all"}, {"*", ""},
		{"feat-?", "feat-1"}, {"feat-?", "feat-12"}, {"feat-?", "feat-/"},
		{"[ab]x", "ax"}, {"[ab]x", "cx"}, {"[!ab]x", "cx"}, {"[!ab]x", "ax"}, {"[^ab]x", "cx"}, {"[a-c]", "b"}, {"[a-c]", "d"},
		{"*/hotfix", "team/a/hotfix"}, {"*/hotfix", "hotfix"},
		{`a\*b`, "a*b"}, {`a\*b`, "axb"}, {"a.b", "a.b"}, {"a.b", "axb"}, {"a+b", "a+b"},
	}
	var script strings.Builder
	script.WriteString("shopt -u extglob nocasematch\n")
	for _, c := range cases {
		// The pattern is unquoted on the right of == so bash treats it as a pattern.
		fmt.Fprintf(&script, "p=%s r=%s; if [[ $r == $p ]]; then echo 1; else echo 0; fi\n", shellQuote(c[0]), shellQuote(c[1]))
	}
	out, err := exec.Command(bash, "--norc", "--noprofile", "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	got := strings.Fields(string(out))
	if len(got) != len(cases) {
		t.Fatalf("bash printed %d answers for %d cases", len(got), len(cases))
	}
	for i, c := range cases {
		bashSays := got[i] == "1"
		if m := profiles.MatchRef(c[0], c[1]); m != bashSays {
			t.Errorf("MatchRef(%q, %q) = %v; bash says %v", c[0], c[1], m, bashSays)
		}
	}
}

// FuzzPrePush drives the hook with arbitrary input and one allowedRefs pattern
// and checks its contract: it never panics; a well-formed line is parsed back
// into exactly its fields; the push is allowed only if every remote ref (after
// profiles.PushRefAllowed: branches by name, tags only by refs/tags/ patterns)
// matches the pattern; each refused ref is
// named by exactly one "[km] Push to '<ref>' denied" line, in input order.
func FuzzPrePush(f *testing.F) {
	f.Add("refs/heads/main", "refs/heads/main", "main", false)
	f.Add("refs/heads/x", "refs/heads/release/a/b", "release/*", false)
	f.Add("refs/heads/dev", "refs/heads/dev", "main", true)
	f.Add("(delete)", "refs/tags/v1", "v*", false)
	f.Add("refs/heads/a b", "refs/heads/c\nd", "[a-", true)
	f.Fuzz(func(t *testing.T, local, remote, pattern string, deletion bool) {
		localSHA := sha1
		if deletion {
			localSHA = zero
		}
		in := local + " " + localSHA + " " + remote + " " + sha2 + "\n"
		s := twoOwners("https://github.com")
		s.AllowedRefs = []string{pattern}
		var stderr bytes.Buffer
		err := PrePush(s, strings.NewReader(in), &stderr)

		wellFormed := local != "" && remote != "" && !strings.ContainsAny(local+remote, " \n\r")
		if !wellFormed {
			if err == nil && stderr.Len() != 0 {
				t.Fatalf("allowed but printed %q", stderr.String())
			}
			return // malformed or split into other lines: only "no panic" and "no silent output" hold
		}
		updates, perr := ParsePushUpdates(strings.NewReader(in))
		if perr != nil || len(updates) != 1 || updates[0] != (PushUpdate{local, localSHA, remote, sha2}) {
			t.Fatalf("parse(%q) = %+v, %v", in, updates, perr)
		}
		name := updates[0].Name()
		if name != profiles.RefDisplayName(remote) {
			t.Fatalf("Name() of %q = %q", remote, name)
		}
		if strings.HasPrefix(remote, "refs/heads/") && len(remote) > len("refs/heads/") && name != strings.TrimPrefix(remote, "refs/heads/") {
			t.Fatalf("Name() of %q = %q", remote, name)
		}
		allowed := profiles.PushRefAllowed([]string{pattern}, remote)
		if strings.HasPrefix(remote, "refs/tags/") && allowed && !strings.HasPrefix(pattern, "refs/tags/") {
			t.Fatalf("tag %q allowed by %q, which does not start with refs/tags/", remote, pattern)
		}
		if allowed {
			if err != nil || stderr.Len() != 0 {
				t.Fatalf("ref %q matches %q but PrePush = %v, %q", name, pattern, err, stderr.String())
			}
			return
		}
		if !errors.Is(err, ErrDenied) {
			t.Fatalf("ref %q does not match %q but PrePush = %v", name, pattern, err)
		}
		if want := "[km] Push to '" + name + "' denied\n"; stderr.String() != want {
			t.Fatalf("stderr = %q, want %q", stderr.String(), want)
		}
	})
}
