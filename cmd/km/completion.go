package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/klankermaker/km/internal/completion"
)

// CompletionCmd is km completion SHELL: it prints the script that makes the
// shell ask km itself for completions (answered in run through kongplete).
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

// Run implements km completion.
func (c *CompletionCmd) Run(g *Globals) error {
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.Abs(bin)
	}
	if err != nil {
		return fmt.Errorf("locating the km binary for the completion script: %w", err)
	}
	s, err := completion.Script(c.Shell, "km", bin)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(g.Stdout, s)
	return err
}
