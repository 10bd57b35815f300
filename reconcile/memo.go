package reconcile

import (
	"context"
	"sync"
)

// memo caches bulk reads shared by several kinds within one plan (for example the
// sandbox token parameters, read once with DescribeParameters).
type memo struct {
	mu    sync.Mutex
	items map[string]*memoItem
}

type memoItem struct {
	once sync.Once
	val  any
	err  error
}

func (m *memo) get(ctx context.Context, key string, f func(context.Context) (any, error)) (any, error) {
	m.mu.Lock()
	if m.items == nil {
		m.items = map[string]*memoItem{}
	}
	it := m.items[key]
	if it == nil {
		it = &memoItem{}
		m.items[key] = it
	}
	m.mu.Unlock()
	it.once.Do(func() { it.val, it.err = f(ctx) })
	return it.val, it.err
}

// forEach runs f for every index with at most limit in flight and returns the
// first error.
func forEach(ctx context.Context, n, limit int, f func(ctx context.Context, i int) error) error {
	if limit < 1 {
		limit = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
