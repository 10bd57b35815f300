package planapply

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
)

// PlanOptions are km plan's flags.
type PlanOptions struct {
	Targets     []string
	LockTimeout time.Duration
	Color       bool
	Format      string // text (default), json, markdown
	OutFile     string
	Only        func(addr string) bool
	// AllowDestroy is --allow-destroy: the exact number of sandboxes the plan
	// may destroy beyond safety.maxDestroyPercent (0: none).
	AllowDestroy int
	// NoDestroyGuard skips the mass-destroy guard (km destroy ID).
	NoDestroyGuard bool
	// NoLock reads without the state lock (km plan --lock=false).
	NoLock bool
}

// ComputePlan takes the lock (unless o.NoLock), reads live state and returns
// the plan; the lock is released before returning.
func (s *Session) ComputePlan(ctx context.Context, op string, o PlanOptions) (*reconcile.Planned, error) {
	if !o.NoLock {
		release, err := s.Lock(ctx, op, o.LockTimeout)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	pl, err := reconcile.MakePlan(ctx, s.Config, s.Runtime, reconcile.PlanOptions{Targets: o.Targets, Only: o.Only})
	if err != nil {
		return nil, err
	}
	s.warnMassDestroy(pl, o)
	return pl, s.noteKeyFile(ctx, pl, false)
}

// massDestroy measures the sandboxes the plan destroys against the live ones.
func (s *Session) massDestroy(pl *reconcile.Planned) reconcile.MassDestroy {
	declared := func(id string) bool { _, ok := s.Config.Sandbox(id); return ok }
	return reconcile.CheckMassDestroy(pl.Plan, declared, pl.LiveSandboxes(), s.Config.Safety.MaxDestroyPercent)
}

// warnMassDestroy adds the plan warning when apply would need --allow-destroy.
func (s *Session) warnMassDestroy(pl *reconcile.Planned, o PlanOptions) {
	if o.NoDestroyGuard {
		return
	}
	if m := s.massDestroy(pl); m.Exceeded() && o.AllowDestroy != len(m.Sandboxes) {
		pl.Plan.Warnings = append(pl.Plan.Warnings, m.Warning())
	}
}

// Render writes a plan in the chosen format.
func Render(w io.Writer, p *reconcile.Plan, format string, color bool) error {
	return views.Render(w, p, format, views.Options{Meta: reconcile.PlanMeta{KMVersion: KMVersion()}, Color: color})
}

// ApplyOptions are km apply's flags.
type ApplyOptions struct {
	PlanOptions
	AutoApprove bool
	Parallelism int
}

// PlanAndApply is km apply without a plan file: plan, show, ask, apply — all
// under one lock.
func (s *Session) PlanAndApply(ctx context.Context, o ApplyOptions) error {
	release, err := s.Lock(ctx, "apply", o.LockTimeout)
	if err != nil {
		return err
	}
	defer release()
	pl, err := reconcile.MakePlan(ctx, s.Config, s.Runtime, reconcile.PlanOptions{Targets: o.Targets, Only: o.Only})
	if err != nil {
		return err
	}
	if err := s.noteKeyFile(ctx, pl, true); err != nil {
		return err
	}
	s.warnMassDestroy(pl, o.PlanOptions)
	out := s.Env.Stdout
	if err := views.RenderText(out, pl.Plan, views.TextOptions{Color: o.Color}); err != nil {
		return err
	}
	if !pl.Plan.HasChanges() {
		return nil
	}
	if !o.NoDestroyGuard {
		// Refused before the question, also under --auto-approve.
		if err := s.massDestroy(pl).Allow(o.AllowDestroy); err != nil {
			return err
		}
	}
	if !o.AutoApprove {
		ok, err := confirm(s.Env.Stdin, out)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(out, "\nApply cancelled.")
			return ErrCancelled
		}
	}
	fmt.Fprintln(out)
	return s.execute(ctx, pl, o.Parallelism)
}

func (s *Session) execute(ctx context.Context, pl *reconcile.Planned, parallelism int) error {
	out := s.Env.Stdout
	res, err := reconcile.Apply(ctx, s.Runtime, pl, reconcile.ApplyOptions{Parallelism: parallelism, Out: out})
	defer s.reportUnrevoked(ctx)
	if err != nil {
		writeFailureSummary(out, res, err)
		return err
	}
	fmt.Fprintf(out, "\nApply complete! Resources: %d added, %d changed, %d destroyed.\n", res.Added, res.Changed, res.Destroyed)
	return nil
}

// ErrCancelled is returned when the user does not answer yes.
var ErrCancelled = fmt.Errorf("apply cancelled")

func confirm(in io.Reader, out io.Writer) (bool, error) {
	fmt.Fprint(out, "\nDo you want to perform these actions?\n  km will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
	ok, err := readYes(in)
	if err != nil {
		return false, fmt.Errorf("%w; use --auto-approve in scripts", err)
	}
	return ok, nil
}

// readYes reads one answer line and reports whether it is "yes".
func readYes(in io.Reader) (bool, error) {
	if in == nil {
		return false, fmt.Errorf("no input to confirm")
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("reading confirmation: %w", err)
	}
	return strings.TrimSpace(line) == "yes", nil
}

// PlanCommand is km plan: compute, render, optionally save. It reports whether
// the plan has changes.
func (s *Session) PlanCommand(ctx context.Context, o PlanOptions) (bool, error) {
	pl, err := s.ComputePlan(ctx, "plan", o)
	if err != nil {
		return false, err
	}
	if o.OutFile != "" {
		if _, err := s.SavePlan(o.OutFile, pl); err != nil {
			return false, err
		}
	}
	if err := Render(s.Env.Stdout, pl.Plan, o.Format, o.Color); err != nil {
		return false, err
	}
	if o.OutFile != "" && (o.Format == "" || o.Format == "text") {
		fmt.Fprintf(s.Env.Stdout, "\nSaved the plan to: %s\nTo perform exactly these actions, run: km apply %q\n", o.OutFile, o.OutFile)
	}
	return pl.Plan.HasChanges(), nil
}
