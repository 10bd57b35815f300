package state_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

func lockInfo(id string) state.LockInfo {
	return state.LockInfo{ID: id, Operation: "apply", Who: "alice@laptop", Version: "v0.1.0"}
}

func TestLockLifecycle(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/state/lock"

	if _, err := a.ReadLock(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("ReadLock unlocked: %v, want ErrNotFound", err)
	}
	l1, err := a.AcquireLock(ctx, name, lockInfo("id-1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if l1.Name != name || l1.Info.ID != "id-1" || l1.Info.Created.IsZero() {
		t.Errorf("lock = %+v", l1)
	}
	holder, err := a.ReadLock(ctx, name)
	if err != nil || holder.ID != "id-1" || holder.Operation != "apply" || holder.Who != "alice@laptop" || !holder.Created.Equal(l1.Info.Created) {
		t.Errorf("ReadLock = %+v, %v", holder, err)
	}

	_, err = a.AcquireLock(ctx, name, lockInfo("id-2"), 0)
	var held *state.LockHeldError
	if !errors.As(err, &held) || held.Holder.ID != "id-1" || held.Name != name {
		t.Fatalf("second AcquireLock: %v, want *LockHeldError held by id-1", err)
	}
	for _, want := range []string{"the state is locked", name, "id-1", "apply", "alice@laptop", l1.Info.Created.UTC().Format(time.RFC3339), "km force-unlock id-1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error lacks %q:\n%s", want, err)
		}
	}

	err = a.ForceUnlock(ctx, name, "id-2")
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "id-1") {
		t.Errorf("ForceUnlock with the wrong id: %v, want a refusal naming id-1", err)
	}
	if _, err := a.ReadLock(ctx, name); err != nil {
		t.Errorf("the refused force-unlock removed the lock: %v", err)
	}

	if err := l1.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadLock(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("after Release: %v, want ErrNotFound", err)
	}
	if err := a.ForceUnlock(ctx, name, "id-1"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("ForceUnlock when unlocked: %v, want ErrNotFound", err)
	}
}

func TestLockForceUnlockAndStaleRelease(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/state/lock"

	stale, err := a.AcquireLock(ctx, name, lockInfo("stale"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ForceUnlock(ctx, name, "stale"); err != nil {
		t.Fatal(err)
	}
	if err := stale.Release(ctx); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Release after force-unlock: %v, want ErrNotFound", err)
	}
	fresh, err := a.AcquireLock(ctx, name, lockInfo("fresh"), 0)
	if err != nil {
		t.Fatal(err)
	}
	// The stale holder must not release the new holder's lock.
	if err := stale.Release(ctx); err == nil || !strings.Contains(err.Error(), "fresh") {
		t.Errorf("stale Release: %v, want an error naming the new holder", err)
	}
	if h, err := a.ReadLock(ctx, name); err != nil || h.ID != "fresh" {
		t.Errorf("lock after stale Release = %+v, %v; want fresh", h, err)
	}
	if err := fresh.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// signalAfter sends on ch (without blocking) each time operation op
// completes, with an error (failed) or without.
func signalAfter(op string, failed bool, ch chan<- struct{}) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testSignal"+op,
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if awsmiddleware.GetOperationName(ctx) == op && (err != nil) == failed {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
				return out, md, err
			}), middleware.After)
	}
}

func TestAcquireLockWaitsForTheHolder(t *testing.T) {
	ctx := context.Background()
	holderClient, _, endpoint := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/state/lock"
	conflicts := make(chan struct{}, 1)
	waiter, rec := statetest.Client(t, endpoint, state.Options{
		APIOptions: []func(*middleware.Stack) error{signalAfter("PutParameter", true, conflicts)},
	})

	first, err := holderClient.AcquireLock(ctx, name, lockInfo("first"), 0)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		l   *state.Lock
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := waiter.AcquireLock(ctx, name, lockInfo("second"), time.Minute)
		done <- result{l, err}
	}()
	<-conflicts // the waiter found the lock held and is waiting
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.l.Info.ID != "second" {
		t.Fatalf("waiting AcquireLock = %+v, %v", r.l, r.err)
	}
	if n := len(rec.Operation("PutParameter")); n < 2 {
		t.Errorf("%d PutParameter attempts, want at least 2", n)
	}
	if h, _ := waiter.ReadLock(ctx, name); h.ID != "second" {
		t.Errorf("holder = %+v, want second", h)
	}
	if err := r.l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAcquireLockGivesUp(t *testing.T) {
	ctx := context.Background()
	a, rec, endpoint := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/state/lock"
	if _, err := a.AcquireLock(ctx, name, lockInfo("holder"), 0); err != nil {
		t.Fatal(err)
	}

	t.Run("timeout", func(t *testing.T) {
		rec.Reset()
		const timeout = 150 * time.Millisecond
		start := time.Now()
		_, err := a.AcquireLock(ctx, name, lockInfo("waiter"), timeout)
		var held *state.LockHeldError
		if !errors.As(err, &held) || held.Holder.ID != "holder" {
			t.Fatalf("AcquireLock: %v, want *LockHeldError", err)
		}
		if elapsed := time.Since(start); elapsed < timeout {
			t.Errorf("gave up after %v, before the %v timeout", elapsed, timeout)
		}
		if n := len(rec.Operation("PutParameter")); n < 2 {
			t.Errorf("%d attempts within the timeout, want several", n)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// Cancel once the waiter has read the holder and starts to wait (its
		// poll interval is too long to retry first).
		readHolder := make(chan struct{}, 1)
		go func() { <-readHolder; cancel() }()
		b, _ := statetest.Client(t, endpoint, state.Options{
			LockPollInterval: time.Hour,
			APIOptions:       []func(*middleware.Stack) error{signalAfter("GetParameter", false, readHolder)},
		})
		_, err := b.AcquireLock(cctx, name, lockInfo("waiter"), time.Hour)
		var held *state.LockHeldError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &held) || held.Holder.ID != "holder" {
			t.Errorf("AcquireLock with a cancelled context: %v, want context.Canceled and the holder", err)
		}
	})
	if h, _ := a.ReadLock(ctx, name); h.ID != "holder" {
		t.Errorf("holder changed to %+v", h)
	}
}

// A lock create whose answer was lost and which the SDK retried into
// ParameterAlreadyExists is recognised as ours: the run holds the lock.
func TestLockLostCreateAnswerIsOurs(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/state/lock"
	info := state.LockInfo{ID: "lost-answer-1", Operation: "apply", Who: "ci@host"}
	// What the lost first attempt left behind.
	if _, err := a.AcquireLock(ctx, name, info, 0); err != nil {
		t.Fatal(err)
	}
	l, err := a.AcquireLock(ctx, name, info, 0)
	if err != nil {
		t.Fatalf("the retried create of our own lock: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	other := state.LockInfo{ID: "someone-else", Operation: "apply", Who: "ci@host"}
	if _, err := a.AcquireLock(ctx, name, other, 0); err != nil {
		t.Fatalf("after release: %v", err)
	}
	var held *state.LockHeldError
	if _, err := a.AcquireLock(ctx, name, info, 0); !errors.As(err, &held) || held.Holder.ID != "someone-else" {
		t.Fatalf("another holder's lock: %v", err)
	}
}
