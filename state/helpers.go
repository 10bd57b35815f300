package state

import (
	"errors"
	"iter"
	"maps"
	"slices"
)

// errEmptyResponse is returned when AWS answers without the expected element.
var errEmptyResponse = errors.New("the response is missing its result element")

// chunk yields s in consecutive pieces of at most n elements.
func chunk[T any](s []T, n int) iter.Seq[[]T] {
	return slices.Chunk(s, n)
}

// sortedKeys returns the keys of m in order, for deterministic requests.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
