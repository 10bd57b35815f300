package reconcile

import "strings"

// PrivateKeyFingerprint reads the App private key's fingerprint from the
// description km writes on its SSM parameter, so that a reader (plan, km
// doctor) compares keys without decrypting one: only the refresher may
// decrypt the App key (docs/security.md). ok is false for a description km
// did not write.
func PrivateKeyFingerprint(description string) (fp string, ok bool) {
	return strings.CutPrefix(description, keyDescPrefix)
}
