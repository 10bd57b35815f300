package reconcile

import (
	"container/heap"
	"context"
	"sync"
)

// slots bounds the changes applied at once (--parallelism). When a slot frees,
// the waiting change deepest in the dependency graph gets it: a token whose
// key exists goes before another sandbox's key create, so every API's quota is
// kept busy (a change waiting for its API's rate holds its slot) instead of
// the first stage of every sandbox filling all slots.
type slots struct {
	mu      sync.Mutex
	free    int
	seq     int
	waiting waitHeap
}

type waiter struct {
	prio, seq int
	ch        chan struct{}
	granted   bool
	gone      bool
}

type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio > h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *waitHeap) Push(x any)   { *h = append(*h, x.(*waiter)) }
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}

func newSlots(n int) *slots { return &slots{free: n} }

// acquire waits for a slot; a higher prio is served first.
func (s *slots) acquire(ctx context.Context, prio int) error {
	s.mu.Lock()
	if s.free > 0 && s.waiting.Len() == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	s.seq++
	w := &waiter{prio: prio, seq: s.seq, ch: make(chan struct{})}
	heap.Push(&s.waiting, w)
	s.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		granted := w.granted
		w.gone = true
		s.mu.Unlock()
		if granted {
			s.release()
		}
		return ctx.Err()
	}
}

// release frees a slot, handing it to the best waiter still waiting.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.waiting.Len() > 0 {
		w := heap.Pop(&s.waiting).(*waiter)
		if w.gone {
			continue
		}
		w.granted = true
		close(w.ch)
		return
	}
	s.free++
}

// depths is each change's longest chain of dependencies within the plan.
func depths(changes []Change, idx map[string]int) []int {
	d := make([]int, len(changes))
	state := make([]int8, len(changes)) // 0 new, 1 visiting, 2 done
	var visit func(i int) int
	visit = func(i int) int {
		if state[i] == 2 || state[i] == 1 {
			return d[i]
		}
		state[i] = 1
		for _, dep := range changes[i].DependsOn {
			if j, ok := idx[dep]; ok {
				d[i] = max(d[i], visit(j)+1)
			}
		}
		state[i] = 2
		return d[i]
	}
	for i := range changes {
		visit(i)
	}
	return d
}
