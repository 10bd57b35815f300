package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ApplyOptions control execution.
type ApplyOptions struct {
	Parallelism int       // default 10
	Out         io.Writer // Terraform-style progress; nil discards
}

// ApplyResult counts what was done.
type ApplyResult struct {
	Added, Changed, Destroyed int
	Failed                    []string
	// Errors holds the error of each failed change, parallel to Failed.
	Errors []error
	// Skipped lists the changes not attempted because one they depend on failed.
	Skipped []string
}

// Apply executes the planned changes in dependency order, at most Parallelism at
// once. A failed change skips the changes that depend on it; the others go on, so
// a re-run converges. Desired resources must come from the same declaration.
func Apply(ctx context.Context, rt *Runtime, pl *Planned, opts ApplyOptions) (ApplyResult, error) {
	if opts.Parallelism < 1 {
		opts.Parallelism = 10
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	rt.unrevoked = &unrevokedLog{} // what this apply retires without revoking
	changes := pl.Plan.Changes
	idx := map[string]int{}
	for i, c := range changes {
		idx[c.Address] = i
	}
	var (
		mu      sync.Mutex
		known   = map[string]map[string]string{}
		done    = make([]chan struct{}, len(changes))
		failed  = make([]bool, len(changes))
		errs    []error
		res     ApplyResult
		sem     = newSlots(opts.Parallelism)
		depth   = depths(changes, idx)
		wg      sync.WaitGroup
		printMu sync.Mutex
	)
	for addr, l := range pl.Live {
		known[addr] = l.Attrs
	}
	lookup := func(addr, attr string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		v, ok := known[addr][attr]
		return v, ok && v != "" && v != Unknown
	}
	say := func(format string, a ...any) {
		printMu.Lock()
		fmt.Fprintf(out, format+"\n", a...)
		printMu.Unlock()
	}
	for i := range changes {
		done[i] = make(chan struct{})
	}
	for i := range changes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer close(done[i])
			c := &changes[i]
			// A token change that retires a token revokes it through the
			// refresher: it waits for the function's change (new code may
			// be what answers revoke requests), but still runs when that
			// change failed (the revocation is then recorded as not done).
			if j, ok := idx[addrFunction]; ok && c.Type == TypeToken && c.Action != Create {
				select {
				case <-done[j]:
				case <-ctx.Done():
				}
			}
			for _, dep := range c.DependsOn {
				j, ok := idx[dep]
				if !ok {
					continue
				}
				select {
				case <-done[j]:
				case <-ctx.Done():
				}
				mu.Lock()
				depFailed := failed[j]
				mu.Unlock()
				if depFailed || ctx.Err() != nil {
					mu.Lock()
					failed[i] = true
					if depFailed {
						res.Skipped = append(res.Skipped, c.Address)
					}
					mu.Unlock()
					return
				}
			}
			if err := sem.acquire(ctx, depth[i]); err != nil {
				mu.Lock()
				failed[i] = true
				mu.Unlock()
				return
			}
			defer sem.release()
			err := applyOne(ctx, rt, pl, c, lookup, say, func(outs map[string]string) {
				mu.Lock()
				m := map[string]string{}
				for k, v := range known[c.Address] {
					m[k] = v
				}
				for k, v := range outs {
					m[k] = v
				}
				known[c.Address] = m
				mu.Unlock()
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[i] = true
				res.Failed = append(res.Failed, c.Address)
				res.Errors = append(res.Errors, err)
				errs = append(errs, err)
				return
			}
			switch c.Action {
			case Create:
				res.Added++
			case Update:
				res.Changed++
			case Delete:
				res.Destroyed++
			case Replace:
				res.Added++
				res.Destroyed++
			}
		}(i)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("apply interrupted: %w; run km apply again to converge", err))
	}
	return res, errors.Join(errs...)
}

var verbs = map[Action][3]string{
	Create:  {"Creating", "Creation complete", "creating"},
	Update:  {"Modifying", "Modifications complete", "updating"},
	Delete:  {"Destroying", "Destruction complete", "deleting"},
	Replace: {"Replacing", "Replacement complete", "replacing"},
}

func applyOne(ctx context.Context, rt *Runtime, pl *Planned, c *Change, lookup func(string, string) (string, bool),
	say func(string, ...any), record func(map[string]string)) error {
	k := rt.kindOf(c.Type)
	if k == nil {
		return fmt.Errorf("%s: unknown resource type %q", c.Address, c.Type)
	}
	if c.Action != Delete {
		d := pl.Desired[c.Address]
		if d == nil {
			return fmt.Errorf("%s: not in the declaration any more; plan again", c.Address)
		}
		attrs, err := resolveKnown(d.Attrs, lookup)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Address, err)
		}
		r := *d
		r.Attrs = attrs
		c.desired = &r
	}
	if c.live == nil {
		c.live = pl.Live[c.Address]
	}
	c.say = say
	v := verbs[c.Action]
	start := time.Now()
	say("%s: %s...", c.Address, v[0])
	outs, err := k.Apply(ctx, rt, c)
	if err != nil {
		say("%s: %s failed after %s", c.Address, v[0], since(start))
		return fmt.Errorf("%s %s (%s): %w", v[2], c.Address, c.ID, err)
	}
	if c.desired != nil {
		all := map[string]string{}
		for k, v := range c.desired.Attrs {
			if v != Unknown {
				all[k] = v
			}
		}
		for k, v := range outs {
			all[k] = v
		}
		record(all)
	}
	id := c.ID
	if outs["key_id"] != "" {
		id = outs["key_id"]
	}
	say("%s: %s after %s [id=%s]", c.Address, v[1], since(start), id)
	return nil
}

func since(t time.Time) string {
	return fmt.Sprintf("%ds", int(time.Since(t).Seconds()))
}
