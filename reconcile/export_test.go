package reconcile

// Internals the external tests (package reconcile_test) check.
const SealedPrefix = sealedPrefix

func SealValue(s string) string { return sealValue(s) }
