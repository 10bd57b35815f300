// Package layering holds no code: its test checks km's import rules
// (DESIGN.md §2 and each package's doc comment) with `go list`, so that a
// change that breaks the layout fails `make test`.
package layering
