// Package completion owns km's shell-completion scripts for bash, zsh and fish.
// Each script registers the km binary itself as the completer: the shell runs
// km with COMP_LINE (and COMP_POINT) set, and cmd/km answers through
// github.com/willabides/kongplete from the kong command tree, so completion
// never drifts from the CLI. The scripts follow kongplete's install-completions
// templates.
//
// It must not import any other km package.
package completion

import (
	"fmt"
	"strings"
)

// template returns shell's script; {{bin}} is the absolute path of the
// completer and {{cmd}} the command name being completed.
func template(shell string) (string, bool) {
	switch shell {
	case "bash":
		return `# km shell completion for bash: source it from ~/.bashrc, e.g.
#   source <(km completion bash)
complete -C '{{bin}}' {{cmd}}
`, true
	case "zsh":
		return `# km shell completion for zsh: source it from ~/.zshrc, e.g.
#   source <(km completion zsh)
autoload -U +X bashcompinit && bashcompinit
complete -C '{{bin}}' {{cmd}}
`, true
	case "fish":
		return `# km shell completion for fish, e.g.
#   km completion fish > ~/.config/fish/completions/km.fish
function __complete_{{cmd}}
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    '{{bin}}'
end
complete -f -c {{cmd}} -a "(__complete_{{cmd}})"
`, true
	}
	return "", false
}

// Shells lists the supported shells, sorted.
func Shells() []string { return []string{"bash", "fish", "zsh"} }

// Script returns the completion script for shell that completes cmd by running
// bin (an absolute path without a single quote).
func Script(shell, cmd, bin string) (string, error) {
	t, ok := template(shell)
	if !ok {
		return "", fmt.Errorf("no completion for shell %q; expected one of %s", shell, strings.Join(Shells(), ", "))
	}
	if strings.ContainsRune(bin, '\'') {
		return "", fmt.Errorf("the km binary's path %q holds a single quote, which the completion script cannot quote; move km to another folder", bin)
	}
	return strings.NewReplacer("{{bin}}", bin, "{{cmd}}", cmd).Replace(t), nil
}
