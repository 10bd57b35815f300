package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const (
	oidA = "1111111111111111111111111111111111111111"
	oidB = "2222222222222222222222222222222222222222"
	oid0 = "0000000000000000000000000000000000000000"
)

func pktStr(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// TestParsePushRequest covers the command section of protocol v0/v1 pushes:
// capabilities, shallow lines, push options, deletions, the probe, and the
// malformed requests the proxy refuses.
func TestParsePushRequest(t *testing.T) {
	pack := "PACK\x00\x00\x00\x02rest-of-pack"
	tests := []struct {
		name    string
		in      string
		cmds    []Command
		caps    []string
		opts    []string
		shallow int
		err     string // substring; "" = success
	}{
		{name: "one command with capabilities", in: pktStr(oidA+" "+oidB+" refs/heads/main\x00report-status side-band-64k agent=git/2.43\n") + "0000" + pack,
			cmds: []Command{{oidA, oidB, "refs/heads/main"}}, caps: []string{"report-status", "side-band-64k", "agent=git/2.43"}},
		{name: "two commands, a deletion, atomic", in: pktStr(oid0+" "+oidB+" refs/heads/a\x00report-status-v2 atomic") + pktStr(oidA+" "+oid0+" refs/heads/b\n") + "0000" + pack,
			cmds: []Command{{oid0, oidB, "refs/heads/a"}, {oidA, oid0, "refs/heads/b"}}, caps: []string{"report-status-v2", "atomic"}},
		{name: "push options", in: pktStr(oidA+" "+oidB+" refs/heads/main\x00report-status push-options\n") + "0000" + pktStr("ci.skip\n") + pktStr("x=y\n") + "0000" + pack,
			cmds: []Command{{oidA, oidB, "refs/heads/main"}}, caps: []string{"report-status", "push-options"}, opts: []string{"ci.skip", "x=y"}},
		{name: "shallow lines first", in: pktStr("shallow "+oidA+"\n") + pktStr(oidA+" "+oidB+" refs/heads/main\x00report-status\n") + "0000" + pack,
			cmds: []Command{{oidA, oidB, "refs/heads/main"}}, caps: []string{"report-status"}, shallow: 1},
		{name: "sha256", in: pktStr(strings.Repeat("a", 64)+" "+strings.Repeat("b", 64)+" refs/heads/main\x00object-format=sha256\n") + "0000",
			cmds: []Command{{strings.Repeat("a", 64), strings.Repeat("b", 64), "refs/heads/main"}}, caps: []string{"object-format=sha256"}},
		{name: "the probe: a lone flush", in: "0000"},
		{name: "empty body", in: "", err: "ended before"},
		{name: "no flush", in: pktStr(oidA + " " + oidB + " refs/heads/main\n"), err: "ended before"},
		{name: "bad length", in: "zzzz", err: "not 4 hex digits"},
		{name: "v2 delimiter", in: "0001", err: "protocol v2"},
		{name: "too long", in: "ffff", err: "exceeds"},
		{name: "cut short", in: "0040abc", err: "cut short"},
		{name: "not a command", in: pktStr("hello world\n") + "0000", err: "is not \"<old-oid> <new-oid> <ref>\""},
		{name: "uppercase oid", in: pktStr(strings.Repeat("A", 40)+" "+oidB+" refs/heads/x\n") + "0000", err: "is not"},
		{name: "mixed oid lengths", in: pktStr(oidA+" "+strings.Repeat("b", 64)+" refs/heads/x\n") + "0000", err: "is not"},
		{name: "ref with a newline inside", in: pktStr(oidA+" "+oidB+" refs/heads/a\nb\n") + "0000", err: "is not"},
		{name: "ref with a space", in: pktStr(oidA+" "+oidB+" refs/heads/a b\n") + "0000", err: "is not"},
		{name: "capabilities twice", in: pktStr(oidA+" "+oidB+" refs/heads/a\x00atomic\n") + pktStr(oidA+" "+oidB+" refs/heads/b\x00atomic\n") + "0000", err: "capabilities after"},
		{name: "signed push", in: pktStr("push-cert\x00report-status\n") + pktStr("certificate version 0.1\n") + "0000", err: "push certificates"},
		{name: "shallow after a command", in: pktStr(oidA+" "+oidB+" refs/heads/a\n") + pktStr("shallow "+oidA+"\n") + "0000", err: "is not"},
		{name: "push options cut", in: pktStr(oidA+" "+oidB+" refs/heads/main\x00push-options\n") + "0000" + pktStr("a\n"), err: "ended before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			req, err := ParsePushRequest(br)
			if tt.err != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want ErrMalformed containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(req.Commands, tt.cmds) || !slices.Equal(req.Capabilities, tt.caps) || !slices.Equal(req.PushOptions, tt.opts) || len(req.Shallow) != tt.shallow {
				t.Errorf("got %+v", req)
			}
			// Nothing past the command section was consumed, and Head + rest is the input.
			rest, _ := io.ReadAll(br)
			if string(req.Head)+string(rest) != tt.in {
				t.Errorf("Head %q + rest %q is not the input", req.Head, rest)
			}
			if len(tt.cmds) > 0 && strings.Contains(tt.in, "PACK") && !strings.HasPrefix(string(rest), "PACK") {
				t.Errorf("rest = %q, want the pack", rest)
			}
		})
	}
}

// TestParsePushRequestStreams: the parser returns once the command section is
// read, without waiting for the pack (which an io.Pipe never delivers here).
func TestParsePushRequestStreams(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, pktStr(oidA+" "+oidB+" refs/heads/dev\x00report-status\n")+"0000PACK")
		// The writer then blocks: the rest of the pack is never written.
	}()
	req, err := ParsePushRequest(bufio.NewReaderSize(pr, 16))
	if err != nil || len(req.Commands) != 1 {
		t.Fatalf("ParsePushRequest = %+v, %v", req, err)
	}
	pw.Close()
}

func TestDenyReport(t *testing.T) {
	req := &PushRequest{Commands: []Command{{oidA, oidB, "refs/heads/main"}, {oid0, oidB, "refs/heads/dev"}}, Capabilities: []string{"report-status"}}
	reasons := map[string]string{"refs/heads/dev": "[km] Push to 'dev' denied"}
	plain := DenyReport(req, reasons, WholePushRefused, []string{"[km] Push to 'dev' denied"})
	want := pktStr("unpack ok\n") + pktStr("ng refs/heads/main "+WholePushRefused+"\n") + pktStr("ng refs/heads/dev [km] Push to 'dev' denied\n") + "0000"
	if string(plain) != want {
		t.Errorf("report-status:\n%q\nwant\n%q", plain, want)
	}
	req.Capabilities = []string{"report-status", "side-band-64k"}
	sb := DenyReport(req, reasons, WholePushRefused, []string{"[km] Push to 'dev' denied"})
	wantSB := pktStr("\x02[km] Push to 'dev' denied\n") + pktStr("\x01"+want) + "0000"
	if string(sb) != wantSB {
		t.Errorf("side-band-64k:\n%q\nwant\n%q", sb, wantSB)
	}
	// side-band (not 64k) splits band 1 into packets of at most 1000 bytes.
	var many []Command
	for i := 0; i < 40; i++ {
		many = append(many, Command{oidA, oidB, fmt.Sprintf("refs/heads/branch-%02d", i)})
	}
	small := DenyReport(&PushRequest{Commands: many, Capabilities: []string{"report-status", "side-band"}}, nil, "no", nil)
	var inner bytes.Buffer
	br := bufio.NewReader(bytes.NewReader(small))
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			t.Fatal(err)
		}
		var n int
		fmt.Sscanf(string(hdr[:]), "%04x", &n)
		if n == 0 {
			break
		}
		if n > 1000 {
			t.Fatalf("side-band packet of %d bytes", n)
		}
		b := make([]byte, n-4)
		io.ReadFull(br, b)
		if b[0] != 1 {
			t.Fatalf("band %d", b[0])
		}
		inner.Write(b[1:])
	}
	if !strings.HasPrefix(inner.String(), pktStr("unpack ok\n")) || strings.Count(inner.String(), "ng refs/heads/branch-") != 40 || !strings.HasSuffix(inner.String(), "0000") {
		t.Errorf("band 1 does not carry the whole report: %q", inner.String())
	}
}

// FuzzParsePushRequest: the parser never panics; on success, Head followed by
// what is left is exactly the input (nothing lost, nothing read past the
// command section), every command is well formed and Has agrees with
// Capabilities; on failure the error wraps ErrMalformed.
func FuzzParsePushRequest(f *testing.F) {
	f.Add([]byte(pktStr(oidA+" "+oidB+" refs/heads/main\x00report-status side-band-64k\n") + "0000PACK"))
	f.Add([]byte(pktStr(oid0+" "+oidB+" refs/tags/v1\x00push-options atomic") + "0000" + pktStr("o\n") + "0000"))
	f.Add([]byte(pktStr("shallow "+oidA) + pktStr(oidA+" "+oid0+" refs/heads/x") + "0000"))
	f.Add([]byte("0000"))
	f.Add([]byte("0004"))
	f.Add([]byte("0001"))
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		req, err := ParsePushRequest(br)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if !bytes.HasPrefix(in, req.Head) {
				t.Fatalf("Head %q is not a prefix of the input", req.Head)
			}
			return
		}
		rest, _ := io.ReadAll(br)
		if !bytes.Equal(append(append([]byte{}, req.Head...), rest...), in) {
			t.Fatalf("Head + rest != input")
		}
		for _, c := range req.Commands {
			if !isOID(c.Old) || !isOID(c.New) || c.Ref == "" || strings.ContainsAny(c.Ref, " \x00\n\r") {
				t.Fatalf("bad command %+v", c)
			}
		}
		for _, c := range req.Capabilities {
			name, _, _ := strings.Cut(c, "=")
			if !req.Has(name) {
				t.Fatalf("Has(%q) is false", name)
			}
		}
		// The report for a refusal is always a valid pkt-line stream ending in a flush.
		rep := DenyReport(req, nil, "x", []string{"m"})
		if !bytes.HasSuffix(rep, []byte("0000")) {
			t.Fatalf("report %q does not end with a flush", rep)
		}
	})
}

// FuzzClassify: Decide never panics; an allowed repository-scoped request
// names a repository allowedRepos matches; nothing on a host outside the
// policy is allowed; the App's API is never allowed; the reason is one line.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"https://github.com/my-user/app.git/info/refs?service=git-receive-pack",
		"https://api.github.com/repos/my-user/app/contents/x",
		"https://api.github.com/app/installations/1/access_tokens",
		"https://github.com/my-user/app/../secret/info/refs",
		"https://codeload.github.com/my-org/x/zip/main",
		"https://raw.githubusercontent.com/my-user/app/main/a",
		"https://objects.githubusercontent.com/x",
		"https://api.github.com/graphql",
		"http://github.com/my-user/app",
		"https://github.com/my-user/app%2F..%2Fsecret/info/refs",
	} {
		f.Add("GET", s)
	}
	p := mustPolicy(f, dotcom)
	// method is part of the committed corpus format; decisions depend on the URL.
	f.Fuzz(func(t *testing.T, method, raw string) {
		_ = method
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		d := p.Decide(u)
		if strings.ContainsAny(d.Reason, "\r\n") {
			t.Fatalf("reason %q is not one line", d.Reason)
		}
		if !d.Allowed {
			return
		}
		if _, ok := p.hosts[hostKey(u.Scheme, u.Host)]; !ok {
			t.Fatalf("allowed a request to %q, not a policy host", u.Host)
		}
		if d.Target.Kind == KindApp {
			t.Fatal("allowed the App API")
		}
		if d.Target.Kind != KindObjects && d.Target.Kind != KindEndpoint {
			if !d.Target.RepoScoped() || !p.RepoAllowed(d.Target.Owner, d.Target.Repo) {
				t.Fatalf("allowed %s without an allowed repository: %+v", raw, d.Target)
			}
			if !validOwner(d.Target.Owner) || !validRepo(d.Target.Repo) {
				t.Fatalf("allowed names %q/%q", d.Target.Owner, d.Target.Repo)
			}
			segs, ok := splitPath(u.EscapedPath())
			if !ok || !slices.ContainsFunc(segs, func(s string) bool { return strings.EqualFold(strings.TrimSuffix(s, ".git"), d.Target.Repo) }) {
				t.Fatalf("the repository %q is not a segment of %q", d.Target.Repo, u.EscapedPath())
			}
		}
	})
}
