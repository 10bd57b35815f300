package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/klankermaker/km/state"
)

// fakeParams is a ParameterReader over a map that records every read: the
// askpass logic is pure, so a map stands in for SSM here (the end-to-end test
// reads from kumo through the real binary).
type fakeParams struct {
	values map[string]string
	err    error
	reads  []string
}

func (f *fakeParams) GetParameter(_ context.Context, name string, decrypt bool) (state.Parameter, error) {
	f.reads = append(f.reads, fmt.Sprintf("%s decrypt=%v", name, decrypt))
	if f.err != nil {
		return state.Parameter{}, f.err
	}
	v, ok := f.values[name]
	if !ok {
		return state.Parameter{}, fmt.Errorf("parameter %s: %w", name, state.ErrNotFound)
	}
	return state.Parameter{Name: name, Type: "SecureString", Value: v}, nil
}

const (
	tokA = "ghs_tokenOfOwnerA0123456789"
	tokB = "ghs_tokenOfOwnerB0123456789"
)

func twoOwners(gitURL string) Settings {
	return Settings{
		Version: SettingsVersion, SandboxID: "sb-1", Profile: "p", Region: "us-east-1", Prefix: "km",
		GitURL: gitURL, Push: true,
		Owners: []OwnerParam{
			{Owner: "my-user", Parameter: "/sandbox/sb-1/github-token"},
			{Owner: "my-org", Parameter: "/sandbox/sb-1/github-token-my-org"},
		},
	}
}

func TestParsePrompt(t *testing.T) {
	tests := []struct {
		prompt   string
		kind     string
		host     string
		path     string
		wantFail bool
	}{
		{prompt: "Username for 'https://github.com/o/r.git': ", kind: "Username", host: "github.com", path: "/o/r.git"},
		{prompt: "Password for 'https://x-access-token@github.com/o/r.git': ", kind: "Password", host: "github.com", path: "/o/r.git"},
		{prompt: "Password for 'http://127.0.0.1:8080/o/r.git': ", kind: "Password", host: "127.0.0.1:8080", path: "/o/r.git"},
		{prompt: "Username for 'https://github.com': ", kind: "Username", host: "github.com"},
		{prompt: "Username for 'https://github.com/it's/r.git': ", kind: "Username", host: "github.com", path: "/it's/r.git"},
		{prompt: "Enter passphrase for key '/root/.ssh/id_ed25519': ", wantFail: true},
		{prompt: "Password: ", wantFail: true},
		{prompt: "Username for 'no-host': ", wantFail: true},
		{prompt: "Username for 'https://github.com/o/r.git'", wantFail: true},
		{prompt: "", wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			p, err := ParsePrompt(tt.prompt)
			if tt.wantFail {
				if !errors.Is(err, ErrNoAnswer) {
					t.Fatalf("ParsePrompt = %+v, %v; want ErrNoAnswer", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tt.kind || p.URL.Host != tt.host || p.URL.Path != tt.path {
				t.Errorf("got kind %q host %q path %q; want %q %q %q", p.Kind, p.URL.Host, p.URL.Path, tt.kind, tt.host, tt.path)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	params := map[string]string{
		"/sandbox/sb-1/github-token":        tokA + "\n",
		"/sandbox/sb-1/github-token-my-org": tokB,
	}
	tests := []struct {
		name     string
		gitURL   string
		owners   int // 0: both owners
		prompt   string
		want     string
		reads    []string
		noAnswer bool
	}{
		{name: "username", gitURL: "https://github.com", prompt: "Username for 'https://github.com/my-user/r.git': ", want: "x-access-token"},
		{name: "first owner's token", gitURL: "https://github.com", prompt: "Password for 'https://x-access-token@github.com/my-user/r.git': ",
			want: tokA, reads: []string{"/sandbox/sb-1/github-token decrypt=true"}},
		{name: "second owner's token", gitURL: "https://github.com", prompt: "Password for 'https://x-access-token@github.com/my-org/other.git': ",
			want: tokB, reads: []string{"/sandbox/sb-1/github-token-my-org decrypt=true"}},
		{name: "owner compared case-insensitively", gitURL: "https://github.com", prompt: "Password for 'https://GitHub.com/My-Org/x': ",
			want: tokB, reads: []string{"/sandbox/sb-1/github-token-my-org decrypt=true"}},
		{name: "default port is the same host", gitURL: "https://github.com", prompt: "Password for 'https://github.com:443/my-user/r.git': ",
			want: tokA, reads: []string{"/sandbox/sb-1/github-token decrypt=true"}},
		{name: "GHES base path", gitURL: "https://ghes.example/git", prompt: "Password for 'https://ghes.example/git/my-org/r.git': ",
			want: tokB, reads: []string{"/sandbox/sb-1/github-token-my-org decrypt=true"}},
		{name: "no path, one owner", gitURL: "https://github.com", owners: 1, prompt: "Password for 'https://github.com': ",
			want: tokA, reads: []string{"/sandbox/sb-1/github-token decrypt=true"}},
		{name: "no path, two owners", gitURL: "https://github.com", prompt: "Password for 'https://github.com': ", noAnswer: true},
		{name: "another host", gitURL: "https://github.com", prompt: "Password for 'https://gitlab.com/my-user/r.git': ", noAnswer: true},
		{name: "another host, username", gitURL: "https://github.com", prompt: "Username for 'https://evil.example/my-user/r.git': ", noAnswer: true},
		{name: "host suffix is another host", gitURL: "https://github.com", prompt: "Password for 'https://github.com.evil.example/my-user/r.git': ", noAnswer: true},
		{name: "user@host is not the host", gitURL: "https://github.com", prompt: "Password for 'https://github.com@evil.example/my-user/r.git': ", noAnswer: true},
		{name: "plain http to an https host", gitURL: "https://github.com", prompt: "Password for 'http://github.com/my-user/r.git': ", noAnswer: true},
		{name: "another port", gitURL: "http://127.0.0.1:8080", prompt: "Password for 'http://127.0.0.1:8081/my-user/r.git': ", noAnswer: true},
		{name: "outside the GHES base path", gitURL: "https://ghes.example/git", prompt: "Password for 'https://ghes.example/my-org/r.git': ", noAnswer: true},
		{name: "owner without a token", gitURL: "https://github.com", prompt: "Password for 'https://github.com/someone-else/r.git': ", noAnswer: true},
		{name: "ssh passphrase", gitURL: "https://github.com", prompt: "Enter passphrase for key '/k': ", noAnswer: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := twoOwners(tt.gitURL)
			if tt.owners == 1 {
				s.Owners = s.Owners[:1]
			}
			f := &fakeParams{values: params}
			opened := 0
			open := func(_ context.Context, region string) (ParameterReader, error) {
				opened++
				if region != "us-east-1" {
					t.Errorf("opened SSM in region %q", region)
				}
				return f, nil
			}
			got, err := Answer(context.Background(), s, tt.prompt, open)
			if tt.noAnswer {
				if !errors.Is(err, ErrNoAnswer) || got != "" {
					t.Fatalf("Answer = %q, %v; want no answer (ErrNoAnswer)", got, err)
				}
				if opened != 0 || len(f.reads) != 0 {
					t.Errorf("a refused prompt touched SSM: opened %d, reads %v", opened, f.reads)
				}
				for _, tok := range []string{tokA, tokB} {
					if strings.Contains(err.Error(), tok) {
						t.Errorf("error %q contains a token", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Answer = %q, want %q", got, tt.want)
			}
			if fmt.Sprint(f.reads) != fmt.Sprint(tt.reads) {
				t.Errorf("SSM reads %v, want %v", f.reads, tt.reads)
			}
		})
	}
}

func TestAnswerReadsEveryTime(t *testing.T) {
	s := twoOwners("https://github.com")
	f := &fakeParams{values: map[string]string{"/sandbox/sb-1/github-token": "ghs_old"}}
	open := func(context.Context, string) (ParameterReader, error) { return f, nil }
	prompt := "Password for 'https://github.com/my-user/r.git': "
	for _, want := range []string{"ghs_old", "ghs_new"} {
		f.values["/sandbox/sb-1/github-token"] = want
		got, err := Answer(context.Background(), s, prompt, open)
		if err != nil || got != want {
			t.Fatalf("Answer = %q, %v; want %q (read at the moment git asks)", got, err, want)
		}
	}
	if len(f.reads) != 2 {
		t.Errorf("reads = %v, want one per prompt", f.reads)
	}
}

func TestAnswerErrors(t *testing.T) {
	s := twoOwners("https://github.com")
	prompt := "Password for 'https://github.com/my-org/r.git': "
	tests := []struct {
		name string
		f    *fakeParams
		open error
		want []string
	}{
		{name: "missing parameter", f: &fakeParams{values: map[string]string{}},
			want: []string{"/sandbox/sb-1/github-token-my-org", "my-org", "km apply", "not found"}},
		{name: "access denied", f: &fakeParams{err: errors.New("AccessDeniedException: not authorized")},
			want: []string{"/sandbox/sb-1/github-token-my-org", "AccessDenied", "kms:Decrypt"}},
		{name: "empty value", f: &fakeParams{values: map[string]string{"/sandbox/sb-1/github-token-my-org": " \n"}},
			want: []string{"/sandbox/sb-1/github-token-my-org", "empty"}},
		{name: "no AWS config", open: errors.New("no region"), want: []string{"SSM", "no region"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open := func(context.Context, string) (ParameterReader, error) {
				if tt.open != nil {
					return nil, tt.open
				}
				return tt.f, nil
			}
			var out strings.Builder
			err := Askpass(context.Background(), s, prompt, open, &out)
			if err == nil || errors.Is(err, ErrNoAnswer) {
				t.Fatalf("Askpass error = %v; want a read error", err)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q on failure", out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAskpassPrintsOneLine(t *testing.T) {
	s := twoOwners("https://github.com")
	f := &fakeParams{values: map[string]string{"/sandbox/sb-1/github-token": tokA}}
	open := func(context.Context, string) (ParameterReader, error) { return f, nil }
	var out strings.Builder
	if err := Askpass(context.Background(), s, "Password for 'https://github.com/my-user/r.git': ", open, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != tokA+"\n" {
		t.Errorf("printed %q, want the token and a newline", out.String())
	}
}
