package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"gopkg.in/yaml.v3"
)

// workflowFile is the part of a GitHub Actions workflow the test reads.
type workflowFile struct {
	Name string `yaml:"name"`
	Jobs map[string]struct {
		RunsOn string `yaml:"runs-on"`
		Steps  []struct {
			Name string `yaml:"name"`
			Uses string `yaml:"uses"`
			Run  string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestGitHubActionsExamples: every workflow under examples/github-actions
// parses (yaml.v3), and every km invocation in its run: steps parses with
// km's real command line (kong), so the examples cannot drift from the CLI.
func TestGitHubActionsExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "github-actions", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d example workflows, want PR plan, apply on merge and drift check", len(files))
	}
	seen := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var wf workflowFile
			if err := yaml.Unmarshal(b, &wf); err != nil {
				t.Fatalf("not valid YAML: %v", err)
			}
			if wf.Name == "" || len(wf.Jobs) == 0 {
				t.Fatalf("no name or no jobs")
			}
			n := 0
			for job, j := range wf.Jobs {
				if j.RunsOn == "" || len(j.Steps) == 0 {
					t.Errorf("job %s: no runs-on or no steps", job)
				}
				for i, st := range j.Steps {
					if (st.Run == "") == (st.Uses == "") {
						t.Errorf("job %s step %d: want exactly one of run and uses", job, i+1)
					}
					for _, args := range kmInvocations(st.Run) {
						n++
						cmd, err := parseKM(args)
						if err != nil {
							t.Errorf("job %s step %q: km %s: %v", job, st.Name, strings.Join(args, " "), err)
							continue
						}
						seen[cmd+" "+strings.Join(args, " ")] = true
						seen[cmd] = true
					}
				}
			}
			if n == 0 {
				t.Errorf("no km invocation")
			}
		})
	}
	for _, want := range []string{"plan", "comment <planfile>", "apply <planfile>"} {
		if !seen[want] {
			t.Errorf("no example runs km %s", want)
		}
	}
	drift := false
	for k := range seen {
		drift = drift || (strings.HasPrefix(k, "plan ") && strings.Contains(k, "--detailed-exitcode") && strings.Contains(k, "--format json"))
	}
	if !drift {
		t.Errorf("no example runs km plan --detailed-exitcode --format json")
	}
}

// parseKM parses km's arguments with the real CLI and returns the command.
func parseKM(args []string) (string, error) {
	var cli CLI
	exited := false
	parser, err := kong.New(&cli, kong.Name("km"), kong.Exit(func(int) { exited = true }))
	if err != nil {
		return "", err
	}
	ctx, err := parser.Parse(args)
	if err != nil {
		return "", err
	}
	if exited {
		return "", errString("km exited while parsing (--help?)")
	}
	return ctx.Command(), nil
}

type errString string

func (e errString) Error() string { return string(e) }

var (
	ghExpr   = regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	shellVar = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
	redirect = regexp.MustCompile(`^[0-9]*(>>?|<)(&[0-9])?`)
)

// kmInvocations returns the arguments of every km command in a run: script.
// GitHub expressions and shell variables become 42 (a valid number and
// string); redirections are dropped.
func kmInvocations(script string) [][]string {
	script = ghExpr.ReplaceAllString(script, "42")
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, cmd := range shellCommands(script) {
		if len(cmd) > 0 && cmd[0] == "km" {
			args := make([]string, 0, len(cmd)-1)
			for _, a := range cmd[1:] {
				args = append(args, shellVar.ReplaceAllString(a, "42"))
			}
			out = append(out, args)
		}
	}
	return out
}

// shellCommands splits a POSIX shell script into simple commands (words),
// enough for the examples: quotes, comments, separators (; & | && || newline
// $( ) ) and redirections.
func shellCommands(s string) [][]string {
	var (
		cmds  [][]string
		words []string
		word  strings.Builder
		inW   bool
	)
	endWord := func() {
		if inW {
			words = append(words, word.String())
			word.Reset()
			inW = false
		}
	}
	endCmd := func() {
		endWord()
		// Drop redirections: >file, > file, 2>&1, >>file.
		var kept []string
		for i := 0; i < len(words); i++ {
			w := words[i]
			if m := redirect.FindString(w); m != "" {
				if m == w && !strings.Contains(m, "&") {
					i++ // the target is the next word
				}
				continue
			}
			kept = append(kept, w)
		}
		if len(kept) > 0 {
			cmds = append(cmds, kept)
		}
		words = nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			word.WriteString(s[i+1 : i+1+j])
			inW = true
			i += j + 1
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				word.WriteByte(s[i])
			}
			inW = true
		case c == '#' && !inW:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			endCmd()
		case c == '\n' || c == ';' || c == '|' || c == '&' || c == '(' || c == ')':
			if c == '&' && inW && strings.HasSuffix(word.String(), ">") {
				word.WriteByte(c) // 2>&1
				continue
			}
			if c == '(' && strings.HasSuffix(word.String(), "$") {
				w := strings.TrimSuffix(word.String(), "$")
				word.Reset()
				word.WriteString(w)
				inW = w != ""
			}
			endCmd()
		case c == ' ' || c == '\t':
			endWord()
		default:
			word.WriteByte(c)
			inW = true
		}
	}
	endCmd()
	return cmds
}

func TestShellCommands(t *testing.T) {
	got := kmInvocations(`set +e
km plan --config km.yaml --format json > drift.json 2>&1 # comment km apply
run_id=$(km show --format json "plan file.json" | jq .)
echo km plan && km comment --repo "${{ github.repository }}" \
  --pr $PR x.json`)
	want := [][]string{
		{"plan", "--config", "km.yaml", "--format", "json"},
		{"show", "--format", "json", "plan file.json"},
		{"comment", "--repo", "42", "--pr", "42", "x.json"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("command %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if _, err := parseKM([]string{"comment", "--pr", "x"}); err == nil {
		t.Errorf("the parser accepts km comment without --repo and with --pr x")
	}
}
