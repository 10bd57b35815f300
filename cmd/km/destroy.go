package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/sandboxes"
)

// DestroyCmd is km destroy.
type DestroyCmd struct {
	ID          string        `arg:"" name:"id" help:"Sandbox id."`
	AutoApprove bool          `name:"auto-approve" help:"Skip the interactive approval."`
	LockTimeout time.Duration `name:"lock-timeout" default:"0s" help:"How long to wait for the state lock."`
}

// Run implements km destroy.
func (c *DestroyCmd) Run(g *Globals) error {
	err := sandboxes.Destroy(g.Ctx, g.env(), sandboxes.DestroyOptions{ID: c.ID, AutoApprove: c.AutoApprove, LockTimeout: c.LockTimeout, Color: g.color()})
	if errors.Is(err, planapply.ErrCancelled) {
		return ExitError{Code: 1}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "\nSandbox destroyed: %s (its key is scheduled for deletion in 7 days)\n", c.ID)
	return nil
}
