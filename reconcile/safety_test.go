package reconcile

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestMassDestroy(t *testing.T) {
	del := func(sb string) Change { return Change{Address: SandboxAddr(sb) + ".x", Sandbox: sb, Action: Delete} }
	upd := func(sb string) Change { return Change{Address: SandboxAddr(sb) + ".y", Sandbox: sb, Action: Update} }
	live := []string{"a", "b", "c", "d", "e", "", "a"}
	declaredExcept := func(gone ...string) func(string) bool {
		return func(id string) bool {
			for _, g := range gone {
				if g == id {
					return false
				}
			}
			return true
		}
	}
	tests := []struct {
		name     string
		changes  []Change
		declared func(string) bool
		max      int
		allow    int
		wantN    int
		exceeded bool
		refused  bool
	}{
		{"nothing destroyed", []Change{upd("a")}, declaredExcept(), 20, 0, 0, false, false},
		{"exactly the limit", []Change{del("e")}, declaredExcept("e"), 20, 0, 1, false, false},
		{"over the limit", []Change{del("d"), del("e"), del("e")}, declaredExcept("d", "e"), 20, 0, 2, true, true},
		{"over, exact allow", []Change{del("d"), del("e")}, declaredExcept("d", "e"), 20, 2, 2, true, false},
		{"over, wrong allow", []Change{del("d"), del("e")}, declaredExcept("d", "e"), 20, 3, 2, true, true},
		{"declared sandbox losing an owner is not destroyed", []Change{del("a"), del("b")}, declaredExcept(), 20, 0, 0, false, false},
		{"limit 0 refuses any", []Change{del("e")}, declaredExcept("e"), 0, 0, 1, true, true},
		{"limit 100 allows all", []Change{del("a"), del("b"), del("c"), del("d"), del("e")}, declaredExcept("a", "b", "c", "d", "e"), 100, 0, 5, false, false},
		{"orphan not in live still counts", []Change{del("z")}, declaredExcept("z"), 20, 0, 1, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := CheckMassDestroy(&Plan{Changes: tc.changes}, tc.declared, live, tc.max)
			if len(m.Sandboxes) != tc.wantN || m.Exceeded() != tc.exceeded {
				t.Fatalf("destroyed %v of %d, exceeded %v; want %d, %v", m.Sandboxes, m.Live, m.Exceeded(), tc.wantN, tc.exceeded)
			}
			err := m.Allow(tc.allow)
			if (err != nil) != tc.refused {
				t.Fatalf("Allow(%d) = %v, want refused %v", tc.allow, err, tc.refused)
			}
			if err != nil {
				if !errors.Is(err, ErrMassDestroy) {
					t.Fatalf("error does not wrap ErrMassDestroy: %v", err)
				}
				for _, id := range m.Sandboxes {
					if !strings.Contains(err.Error(), "  - "+id+"\n") {
						t.Fatalf("error does not list %s:\n%v", id, err)
					}
				}
			}
		})
	}
}

func TestSlotsServeDeepestFirst(t *testing.T) {
	s := newSlots(1)
	ctx := context.Background()
	if err := s.acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 3)
	var wg sync.WaitGroup
	for k, prio := range []int{1, 3, 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.acquire(ctx, prio); err != nil {
				t.Error(err)
				return
			}
			order <- prio
			s.release()
		}()
		// Each waiter is queued before the next starts.
		for {
			s.mu.Lock()
			n := s.waiting.Len()
			s.mu.Unlock()
			if n == k+1 {
				break
			}
			runtime.Gosched()
		}
	}
	s.release()
	wg.Wait()
	close(order)
	var got []int
	for p := range order {
		got = append(got, p)
	}
	if fmt.Sprint(got) != "[3 2 1]" {
		t.Fatalf("served %v, want deepest first [3 2 1]", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := newSlots(0).acquire(cctx, 1); err == nil {
		t.Fatal("acquire with a cancelled context and no slot succeeded")
	}
}
