package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
)

// shortHash is a short content hash used in fingerprints.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
