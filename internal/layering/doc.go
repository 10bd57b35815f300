// Package layering holds no code: its tests check km's import rules with
// `go list`, so that a change that breaks the layout fails `make test`: the
// floors (cmd → command packages → reconcile/lambda → state, profiles, the
// token contract, the GitHub client → leaves; nothing imports upward), each
// package doc's sentence about its imports, and that only
// internal/sandboxtoken builds a /sandbox/ path.
package layering
