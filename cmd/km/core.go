package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/klankermaker/km/internal/planapply"
)

func (g *Globals) env() planapply.Env {
	return planapply.Env{ConfigPath: g.Config, Getenv: os.Getenv, Stdout: g.Stdout, Stderr: g.Stderr, Stdin: g.Stdin}
}

// color: on for a terminal, off with NO_COLOR or a pipe.
func (g *Globals) color() bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := g.Stdout.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ValidateCmd checks the declaration only.
type ValidateCmd struct{}

// Run implements km validate.
func (c *ValidateCmd) Run(g *Globals) error {
	cfg, err := planapply.LoadConfig(g.env())
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Success! %s is valid: %d sandbox(es), %d profile(s).\n", g.Config, len(cfg.Sandboxes), len(cfg.Profiles))
	if cfg.GitHub.PrivateKeyMissing {
		fmt.Fprintf(g.Stdout, "Note: github.privateKeyFile %s does not exist on this machine: plans keep the App key SSM holds; an apply cannot upload it.\n", cfg.GitHub.PrivateKeyFile)
	}
	return nil
}

// PlanCmd is km plan.
type PlanCmd struct {
	Out              string        `name:"out" help:"Write the plan to FILE for km apply FILE." type:"path"`
	DetailedExitcode bool          `name:"detailed-exitcode" help:"Exit 0 with no changes, 2 with changes, 1 on error."`
	Format           string        `name:"format" enum:"text,json,markdown" default:"text" help:"Output format: text, json or markdown."`
	Target           []string      `name:"target" help:"Limit to this resource address and what it depends on (repeatable)."`
	LockTimeout      time.Duration `name:"lock-timeout" default:"0s" help:"How long to wait for the state lock."`
	Lock             bool          `name:"lock" default:"true" negatable:"" help:"Take the state lock; --lock=false reads without it (the plan may see an apply half done)."`
}

// Run implements km plan.
func (c *PlanCmd) Run(g *Globals) error {
	s, err := planapply.Open(g.Ctx, g.env())
	if err != nil {
		return err
	}
	o := planapply.PlanOptions{Targets: c.Target, LockTimeout: c.LockTimeout, Color: g.color(), Format: c.Format, OutFile: c.Out, NoLock: !c.Lock}
	changes, err := s.PlanCommand(g.Ctx, o)
	if err != nil {
		return err
	}
	if c.DetailedExitcode && changes {
		return ExitError{Code: 2}
	}
	return nil
}

// ApplyCmd is km apply.
type ApplyCmd struct {
	AutoApprove bool          `name:"auto-approve" help:"Skip the interactive approval."`
	Parallelism int           `name:"parallelism" default:"10" help:"Resources changed at once."`
	Target      []string      `name:"target" help:"Limit to this resource address and what it depends on (repeatable)."`
	LockTimeout time.Duration `name:"lock-timeout" default:"0s" help:"How long to wait for the state lock."`
	PlanFile    string        `arg:"" optional:"" name:"planfile" help:"A plan saved with km plan --out." type:"path"`
	// AllowDestroy: see safety.maxDestroyPercent in km.example.yaml.
	AllowDestroy int `name:"allow-destroy" placeholder:"N" help:"Allow a plan that destroys more than safety.maxDestroyPercent of the live sandboxes; N must be the exact number it destroys."`
}

// Run implements km apply.
func (c *ApplyCmd) Run(g *Globals) error {
	s, err := planapply.Open(g.Ctx, g.env())
	if err != nil {
		return err
	}
	o := planapply.ApplyOptions{
		PlanOptions: planapply.PlanOptions{Targets: c.Target, LockTimeout: c.LockTimeout, Color: g.color(), AllowDestroy: c.AllowDestroy},
		AutoApprove: c.AutoApprove, Parallelism: c.Parallelism,
	}
	if c.PlanFile != "" {
		return s.ApplyPlanFile(g.Ctx, c.PlanFile, o)
	}
	err = s.PlanAndApply(g.Ctx, o)
	if errors.Is(err, planapply.ErrCancelled) {
		return ExitError{Code: 1}
	}
	return err
}

// ForceUnlockCmd is km force-unlock.
type ForceUnlockCmd struct {
	LockID string `arg:"" name:"lock-id" help:"The lock id shown by the command that found the lock held."`
	Force  bool   `name:"force" help:"Do not ask for confirmation."`
}

// Run implements km force-unlock.
func (c *ForceUnlockCmd) Run(g *Globals) error {
	s, err := planapply.Open(g.Ctx, g.env())
	if err != nil {
		return err
	}
	err = s.ForceUnlock(g.Ctx, c.LockID, c.Force)
	if errors.Is(err, planapply.ErrCancelled) {
		return ExitError{Code: 1}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "km state has been successfully unlocked (lock %s).\n", c.LockID)
	return nil
}
