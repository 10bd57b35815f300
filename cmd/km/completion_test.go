package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestCompletionAnswers: with COMP_LINE set (what bash, zsh and fish set when
// they run the completer) km prints the matching words and exits 0 without
// running a command.
func TestCompletionAnswers(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string // every one must be offered
		not  []string
	}{
		{"km pl", []string{"plan"}, []string{"apply", "validate"}},
		{"km ", []string{"plan", "apply", "version", "completion", "configure"}, nil},
		{"km configure ", []string{"github"}, nil},
		{"km configure github --disc", []string{"--discover"}, []string{"--force"}},
		{"km plan --format ", []string{"text", "json", "markdown"}, nil},
		{"km version --format j", []string{"json"}, []string{"text"}},
		{"km completion ", []string{"bash", "zsh", "fish"}, nil},
	} {
		t.Run(tc.line, func(t *testing.T) {
			t.Setenv("COMP_LINE", tc.line)
			t.Setenv("COMP_POINT", "")
			code, out, errOut := runKM(t, "ignored", "by", "completion")
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			got := strings.Fields(out)
			for _, w := range tc.want {
				if !contains(got, w) {
					t.Errorf("completing %q offers %q, want %q among them", tc.line, got, w)
				}
			}
			for _, w := range tc.not {
				if contains(got, w) {
					t.Errorf("completing %q offers %q, which does not match", tc.line, w)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCompletionScriptInBash: the bash script, sourced by a real bash,
// registers km's binary as the completer, and running that completer the way
// bash does (COMP_LINE, COMP_POINT, argv: command, word, previous word)
// offers plan for "km pl". The zsh and fish scripts are checked for the same
// completer line (neither shell is installed here).
func TestCompletionScriptInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash not found: %v", err)
	}
	bin := kmBinary(t)
	scripts := map[string]string{}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, err := exec.Command(bin, "completion", sh).Output()
		if err != nil {
			t.Fatalf("km completion %s: %v", sh, err)
		}
		scripts[sh] = string(out)
	}
	reg := "complete -C '" + bin + "' km"
	if !strings.Contains(scripts["bash"], reg) || !strings.Contains(scripts["zsh"], reg) || !strings.Contains(scripts["zsh"], "bashcompinit") {
		t.Errorf("bash/zsh scripts do not register %q:\n%s\n%s", reg, scripts["bash"], scripts["zsh"])
	}
	if !strings.Contains(scripts["fish"], "complete -f -c km -a \"(__complete_km)\"") || !strings.Contains(scripts["fish"], "'"+bin+"'") {
		t.Errorf("fish script:\n%s", scripts["fish"])
	}
	script := filepath.Join(t.TempDir(), "km.bash")
	if err := os.WriteFile(script, []byte(scripts["bash"]), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bash, "-c", "source "+script+" && complete -p km").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != reg {
		t.Fatalf("bash: complete -p km = %q (%v), want %q", out, err, reg)
	}
	cmd := exec.Command(bin, "km", "pl", "km")
	cmd.Env = append(os.Environ(), "COMP_LINE=km pl", "COMP_POINT=5")
	got, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(got)) != "plan" {
		t.Errorf("completer for \"km pl\" printed %q (%v), want plan", got, err)
	}
}

// TestNoParentRun: kong runs every Run from the selected command up to the
// root, so a command with subcommands must not have one (km configure github
// exited 1 after succeeding because km configure had a Run).
func TestNoParentRun(t *testing.T) {
	var cli CLI
	parser, err := kong.New(&cli, kong.Name("km"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, c := range n.Children {
			if c.Type == kong.CommandNode && len(c.Children) > 0 {
				if _, ok := c.Target.Addr().Interface().(interface{ Run(*Globals) error }); ok {
					t.Errorf("km %s has subcommands and a Run method: kong would run it after the subcommand", c.Path())
				}
			}
			walk(c)
		}
	}
	walk(parser.Model.Node)
}
