package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/sandboxes"
)

// CreateCmd is km create.
type CreateCmd struct {
	Profile     string        `arg:"" name:"profile" help:"Profile name (metadata.name) or path to a profile file in profilesDir."`
	ID          string        `name:"id" help:"Sandbox id (default: sb- and 8 random letters and digits)."`
	Principal   string        `name:"principal" required:"" help:"ARN of the IAM role or user that alone may read the sandbox's token (arn:aws:iam::ACCOUNT:role/NAME); required, one per sandbox, never an account root."`
	AutoApprove bool          `name:"auto-approve" help:"Skip the interactive approval."`
	LockTimeout time.Duration `name:"lock-timeout" default:"0s" help:"How long to wait for the state lock."`
}

// Run implements km create.
func (c *CreateCmd) Run(g *Globals) error {
	id, err := sandboxes.Create(g.Ctx, g.env(), sandboxes.CreateOptions{
		Profile: c.Profile, ID: c.ID, Principal: c.Principal, AutoApprove: c.AutoApprove,
		LockTimeout: c.LockTimeout, Color: g.color(),
	})
	if errors.Is(err, planapply.ErrCancelled) {
		return ExitError{Code: 1}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "\nSandbox created: %s\n", id)
	return nil
}
