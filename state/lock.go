package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lock is a held state lock: an SSM String parameter created with
// Overwrite=false whose value is the holder's LockInfo as JSON.
type Lock struct {
	Name string
	Info LockInfo
	aws  *AWS
}

// LockHeldError is returned by AcquireLock when another run holds the lock.
type LockHeldError struct {
	Name   string   // the lock parameter
	Holder LockInfo // zero when the holder could not be read
	// Stale, when set, says why the holder is known to be gone (its process
	// no longer runs); the caller that can tell sets it.
	Stale string
}

func (e *LockHeldError) Error() string {
	h := e.Holder
	var b strings.Builder
	fmt.Fprintf(&b, "the state is locked (SSM parameter %s)\n", e.Name)
	b.WriteString(h.Describe())
	if e.Stale != "" {
		fmt.Fprintf(&b, "The holder is gone: %s. Release the lock with: km force-unlock %s\n", e.Stale, h.ID)
	}
	fmt.Fprintf(&b, "Another km run holds the lock: wait for it to finish (or pass a longer --lock-timeout). "+
		"Once you are sure no other km is running, release it with: km force-unlock %s", h.ID)
	return b.String()
}

// Describe renders the holder as the lock error and km force-unlock show it:
// who (with the process id), when, how long ago, and the km version.
func (h LockInfo) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  ID:        %s\n", h.ID)
	fmt.Fprintf(&b, "  Operation: %s\n", h.Operation)
	if h.PID > 0 {
		fmt.Fprintf(&b, "  Who:       %s (pid %d)\n", h.Who, h.PID)
	} else {
		fmt.Fprintf(&b, "  Who:       %s\n", h.Who)
	}
	if !h.Created.IsZero() {
		fmt.Fprintf(&b, "  Created:   %s (%s ago)\n", h.Created.UTC().Format(time.RFC3339), time.Since(h.Created).Round(time.Second))
	}
	if h.Version != "" {
		fmt.Fprintf(&b, "  Version:   %s\n", h.Version)
	}
	return b.String()
}

// maxVanishedRetries bounds the immediate retries when the lock was released
// between our failed create and our read of the holder.
const maxVanishedRetries = 3

// AcquireLock creates the lock parameter name holding info. If another run
// holds it, AcquireLock tries again every poll interval until timeout and then
// returns a *LockHeldError naming the holder; timeout 0 makes one attempt.
// info.Created is set to now when zero.
func (a *AWS) AcquireLock(ctx context.Context, name string, info LockInfo, timeout time.Duration) (*Lock, error) {
	if info.ID == "" {
		return nil, fmt.Errorf("acquire state lock %s: the lock info has no ID", name)
	}
	if info.Created.IsZero() {
		info.Created = time.Now().UTC()
	}
	body, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("acquire state lock %s: %w", name, err)
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	ticker := time.NewTicker(a.lockPoll)
	defer ticker.Stop()

	vanished := 0
	var held *LockHeldError // the holder seen last
	for {
		_, err := a.PutParameter(ctx, PutParameterInput{
			Name:        name,
			Type:        "String",
			Value:       string(body),
			Description: "km state lock: delete only with km force-unlock",
		})
		if err == nil {
			return &Lock{Name: name, Info: info, aws: a}, nil
		}
		if !errors.Is(err, ErrAlreadyExists) {
			return nil, lockWaitErr(ctx, name, err, held)
		}
		holder, err := a.ReadLock(ctx, name)
		switch {
		case errors.Is(err, ErrNotFound) && vanished < maxVanishedRetries:
			vanished++ // released in between: try again now
			continue
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, lockWaitErr(ctx, name, err, held)
		}
		if err == nil && holder.ID == info.ID {
			// Our own create, whose answer was lost and which the SDK then
			// retried into ParameterAlreadyExists: we hold the lock.
			return &Lock{Name: name, Info: info, aws: a}, nil
		}
		vanished = 0
		held = &LockHeldError{Name: name, Holder: holder}
		if timeout <= 0 {
			return nil, held
		}
		select {
		case <-ctx.Done():
			return nil, lockWaitErr(ctx, name, ctx.Err(), held)
		case <-deadline:
			return nil, held
		case <-ticker.C:
		}
	}
}

// lockWaitErr is the error of a failed acquire attempt: when the context ended
// while another run held the lock, it names that holder too.
func lockWaitErr(ctx context.Context, name string, err error, held *LockHeldError) error {
	if ctx.Err() != nil && held != nil {
		return fmt.Errorf("gave up waiting for the state lock: %w\n%w", ctx.Err(), held)
	}
	return fmt.Errorf("acquire state lock %s: %w", name, err)
}

// Release deletes the lock if it still holds this lock's ID. It returns an
// error wrapping ErrNotFound when the lock is already gone (force-unlocked),
// and an error without deleting anything when another run holds it now.
func (l *Lock) Release(ctx context.Context) error {
	cur, err := l.aws.ReadLock(ctx, l.Name)
	if err != nil {
		return fmt.Errorf("release state lock %s (ID %s): %w", l.Name, l.Info.ID, err)
	}
	if cur.ID != l.Info.ID {
		return fmt.Errorf("release state lock %s: it is now held by ID %s (%s, %s), not by this run (ID %s); it was left in place",
			l.Name, cur.ID, cur.Operation, cur.Who, l.Info.ID)
	}
	if err := l.aws.DeleteParameter(ctx, l.Name); err != nil && !errors.Is(err, ErrNotFound) {
		// ErrNotFound here: our delete was done but its answer lost, and
		// the retry found nothing left to delete.
		return fmt.Errorf("release state lock %s (ID %s): %w", l.Name, l.Info.ID, err)
	}
	return nil
}

// ForceUnlock deletes the lock if it is held by id. It refuses when another ID
// holds it, and returns an error wrapping ErrNotFound when it is not held.
func (a *AWS) ForceUnlock(ctx context.Context, name, id string) error {
	cur, err := a.ReadLock(ctx, name)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", id, err)
	}
	if cur.ID != id {
		return fmt.Errorf("force-unlock %s: refused, the state lock %s is held by ID %s (operation %s, who %s, created %s), not %s; "+
			"check the ID in the lock error message", id, name, cur.ID, cur.Operation, cur.Who, cur.Created.UTC().Format(time.RFC3339), id)
	}
	if err := a.DeleteParameter(ctx, name); err != nil {
		return fmt.Errorf("force-unlock %s: %w", id, err)
	}
	return nil
}

// ReadLock returns the current holder of the lock; an error wrapping
// ErrNotFound when the state is not locked.
func (a *AWS) ReadLock(ctx context.Context, name string) (LockInfo, error) {
	p, err := a.GetParameter(ctx, name, false)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return LockInfo{}, fmt.Errorf("the state is not locked (no SSM parameter %s): %w", name, err)
		}
		return LockInfo{}, err
	}
	var info LockInfo
	if err := json.Unmarshal([]byte(p.Value), &info); err != nil || info.ID == "" {
		return LockInfo{}, fmt.Errorf("the state lock parameter %s does not hold km lock info; inspect it with "+
			"`aws ssm get-parameter --name %s` and delete it with `aws ssm delete-parameter --name %s` once no km runs", name, name, name)
	}
	return info, nil
}
