package planapply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
)

// KMVersion is the running km's module version ("(devel)" for a local build).
func KMVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// DeclarationRef names a declaration file for reviewers and for the sticky
// comment's marker: its path relative to the repository holding it (the nearest
// folder above it with a .git entry), else relative to the working directory,
// else its base name. Always with forward slashes.
func DeclarationRef(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		return filepath.ToSlash(filepath.Base(file))
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil {
				return filepath.ToSlash(rel)
			}
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, abs); err == nil && filepath.IsLocal(rel) {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(filepath.Base(abs))
}

// planMeta is the metadata of a plan made in this session.
func (s *Session) planMeta() reconcile.PlanMeta {
	now := time.Now
	if s.Env.Now != nil {
		now = s.Env.Now
	}
	m := reconcile.PlanMeta{KMVersion: KMVersion(), PlanID: newID(), CreatedAt: now()}
	if s.Runtime != nil {
		m.Account = s.Runtime.Account
	}
	if s.Config != nil {
		m.Declaration = DeclarationRef(s.Config.File)
	}
	return m
}

// SavePlan writes the plan file for a plan made in this session (km plan
// --out): the change set, every touched resource's precondition, the
// declaration hash, prefix, region and account, and a new plan id. It holds no
// secret.
func (s *Session) SavePlan(path string, pl *reconcile.Planned) (*reconcile.PlanFile, error) {
	f, err := reconcile.NewPlanFile(pl.Plan, s.planMeta())
	if err != nil {
		return nil, err
	}
	if err := reconcile.WritePlanFile(path, f); err != nil {
		return nil, err
	}
	return f, nil
}

// SavePlan writes a plan file without a session (no account or declaration
// path recorded). Prefer (*Session).SavePlan.
func SavePlan(path string, p *reconcile.Plan) error {
	f, err := reconcile.NewPlanFile(p, reconcile.PlanMeta{KMVersion: KMVersion(), PlanID: newID()})
	if err != nil {
		return err
	}
	return reconcile.WritePlanFile(path, f)
}

// ShowPlanFile renders a saved plan (km show).
func ShowPlanFile(w io.Writer, path, format string, color bool) error {
	f, err := reconcile.ReadPlanFile(path)
	if err != nil {
		return err
	}
	return RenderFile(w, f, format, color)
}

// RenderFile renders a plan file in the chosen format.
func RenderFile(w io.Writer, f *reconcile.PlanFile, format string, color bool) error {
	header := fmt.Sprintf("Saved plan %s, made %s by km %s from %s (prefix %s, %s).\n\n",
		f.PlanID, f.CreatedAt.UTC().Format(time.RFC3339), f.KMVersion, orUnknown(f.Declaration), f.Prefix, f.Region)
	return views.Render(w, f.Plan(), format, views.Options{Meta: f.Meta(), Color: color, TextHeader: header})
}

func orUnknown(s string) string {
	if s == "" {
		return "an unrecorded declaration"
	}
	return s
}

// ApplyPlanFile applies a saved plan exactly (km apply FILE): no question, no
// re-plan. Under the state lock it refuses a plan that was applied before, then
// re-reads only the resources the plan touches and refuses, writing nothing,
// when any of them moved since the plan or the declaration changed. A plan is
// claimed (recorded in SSM) before its first change, so it can never be
// applied twice.
func (s *Session) ApplyPlanFile(ctx context.Context, path string, o ApplyOptions) error {
	f, err := reconcile.ReadPlanFile(path)
	if err != nil {
		return err
	}
	if len(o.Targets) > 0 {
		return errors.New("--target cannot be used with a plan file: the plan already fixes the change set; run km plan --target ... --out FILE instead")
	}
	// Checked again under the lock by PrepareSavedPlan; failing early avoids
	// taking the lock for nothing.
	if err := reconcile.CheckDeclaration(s.Config, f); err != nil {
		return err
	}
	release, err := s.Lock(ctx, "apply", o.LockTimeout)
	if err != nil {
		return err
	}
	defer release()
	if err := reconcile.CheckNotApplied(ctx, s.Runtime, f); err != nil {
		return err
	}
	pl, err := reconcile.PrepareSavedPlan(ctx, s.Config, s.Runtime, f)
	if err != nil {
		return err
	}
	if _, err := s.keyFileNote(ctx); err != nil {
		return err
	}
	// A saved plan reads only what it touches: the declared sandboxes stand in
	// for the live ones it did not read.
	live := pl.LiveSandboxes()
	for _, sb := range s.Config.Sandboxes {
		live = append(live, sb.ID)
	}
	declared := func(id string) bool { _, ok := s.Config.Sandbox(id); return ok }
	if err := reconcile.CheckMassDestroy(pl.Plan, declared, live, s.Config.Safety.MaxDestroyPercent).Allow(o.AllowDestroy); err != nil {
		return err
	}
	if err := reconcile.ClaimPlan(ctx, s.Runtime, f); err != nil {
		return err
	}
	out := s.Env.Stdout
	if !pl.Plan.HasChanges() {
		fmt.Fprintln(out, "The plan has no changes: nothing to apply.")
	}
	res, applyErr := reconcile.Apply(ctx, s.Runtime, pl, reconcile.ApplyOptions{Parallelism: o.Parallelism, Out: out})
	defer s.reportUnrevoked(context.WithoutCancel(ctx))
	if err := reconcile.RecordApplied(context.WithoutCancel(ctx), s.Runtime, f, res, applyErr); err != nil {
		fmt.Fprintf(s.Env.Stderr, "Warning: %v\n", err)
	}
	if applyErr != nil {
		writeFailureSummary(out, res, applyErr)
		return fmt.Errorf("%w\nThe plan file is used up: run km plan again to see what is left", applyErr)
	}
	fmt.Fprintf(out, "\nApply complete! Resources: %d added, %d changed, %d destroyed.\n", res.Added, res.Changed, res.Destroyed)
	return nil
}
