package sandbox

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParsePrompt: never panics; a prompt it accepts has a known kind and a
// URL with a host; a refusal is ErrNoAnswer (the helper then prints nothing).
func FuzzParsePrompt(f *testing.F) {
	for _, s := range []string{
		"Password for 'https://x-access-token@github.com/owner/repo.git': ",
		"Username for 'https://github.com': ",
		"Password for 'https://github.com': ':",
		"Enter passphrase for key '/root/.ssh/id_ed25519': ",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrompt(s)
		if err != nil {
			if !errors.Is(err, ErrNoAnswer) {
				t.Fatalf("refusal %v does not wrap ErrNoAnswer", err)
			}
			return
		}
		if (p.Kind != "Username" && p.Kind != "Password") || p.URL == nil || p.URL.Host == "" {
			t.Fatalf("accepted %q as %+v", s, p)
		}
	})
}

// FuzzParsePushUpdates: never panics; every update it returns has four
// non-empty fields without spaces; garbage is refused (fail closed), never
// silently dropped.
func FuzzParsePushUpdates(f *testing.F) {
	f.Add("refs/heads/main 1111111111111111111111111111111111111111 refs/heads/main 0000000000000000000000000000000000000000\n")
	f.Add("(delete) 0000000000000000000000000000000000000000 refs/heads/dev 2222222222222222222222222222222222222222\r\n\n")
	f.Add("one two three\n")
	f.Fuzz(func(t *testing.T, in string) {
		ups, err := ParsePushUpdates(strings.NewReader(in))
		if err != nil {
			return
		}
		lines := 0
		for _, l := range strings.Split(in, "\n") {
			// bufio.ScanLines drops one trailing CR, the parser another.
			if strings.TrimSuffix(strings.TrimSuffix(l, "\r"), "\r") != "" {
				lines++
			}
		}
		if len(ups) != lines {
			t.Fatalf("%d updates from %d non-empty lines of %q", len(ups), lines, in)
		}
		for _, u := range ups {
			for _, field := range []string{u.LocalRef, u.LocalSHA, u.RemoteRef, u.RemoteSHA} {
				if field == "" || strings.ContainsAny(field, " \n") {
					t.Fatalf("update field %q from %q", field, in)
				}
			}
			_ = u.Name()
			_ = u.Deletion()
		}
	})
}
