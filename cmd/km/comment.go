package main

import (
	"time"

	"github.com/klankermaker/km/internal/planapply"
)

// CommentCmd is km comment: post or update the sticky plan comment on a pull
// request (token from GITHUB_TOKEN).
type CommentCmd struct {
	Repo        string        `name:"repo" required:"" help:"The repository, OWNER/NAME."`
	PR          int           `name:"pr" required:"" help:"The pull request number."`
	MaxComments int           `name:"max-comments" default:"10" help:"At most this many comments per plan; the diff of a larger plan is cut short."`
	Target      []string      `name:"target" help:"Without PLANFILE: limit the plan to this address (repeatable)."`
	LockTimeout time.Duration `name:"lock-timeout" default:"0s" help:"Without PLANFILE: how long to wait for the state lock."`
	PlanFile    string        `arg:"" optional:"" name:"planfile" help:"A plan saved with km plan --out; without it, km plans now." type:"path"`
}

// Run implements km comment.
func (c *CommentCmd) Run(g *Globals) error {
	_, err := planapply.Comment(g.Ctx, g.env(), planapply.CommentOptions{
		Repo: c.Repo, PR: c.PR, PlanFile: c.PlanFile, MaxComments: c.MaxComments,
		Plan: planapply.PlanOptions{Targets: c.Target, LockTimeout: c.LockTimeout},
	})
	return err
}
