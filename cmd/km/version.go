package main

import (
	"os"
	"runtime/debug"

	"github.com/klankermaker/km/internal/version"
)

// linkedCommit is the commit `make build` stamps with -ldflags -X (Go's own VCS
// stamping is off with -buildvcs=false and in git worktrees); empty otherwise.
// Only the linker sets it.
var linkedCommit string

// VersionCmd is km version.
type VersionCmd struct {
	Format string `name:"format" enum:"text,json" default:"text" help:"Output format: text or json (docs/version.md)."`
}

// Run implements km version.
func (c *VersionCmd) Run(g *Globals) error {
	bi, _ := debug.ReadBuildInfo()
	in := version.Collect(bi, linkedCommit, os.Getenv)
	if c.Format == "json" {
		return version.WriteJSON(g.Stdout, in)
	}
	return version.WriteText(g.Stdout, in)
}
