package statetest

import (
	"context"
	"fmt"

	"github.com/klankermaker/km/state"
)

// AllKeys lists every KMS key in kumo's store. Past 1,000 keys kumo answers
// ListKeys with some 1,000 of them, a different window each time, and never
// pages (DESIGN's measured gaps); AWS pages. A census that must see every
// key (the fault and crash tests' independent leak count) reads until
// quietReads reads in a row add nothing new.
func AllKeys(ctx context.Context, a *state.AWS) ([]string, error) {
	const quietReads = 8
	seen := map[string]bool{}
	var out []string
	for quiet := 0; quiet < quietReads; {
		keys, err := a.ListKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("statetest: listing kumo's keys: %w", err)
		}
		added := 0
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
				added++
			}
		}
		if len(keys) < 1000 {
			break // less than a page: the whole store
		}
		if added == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	return out, nil
}
