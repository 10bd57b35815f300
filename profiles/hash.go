package profiles

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
)

// hash computes Config.Hash: SHA-256 over km.yaml's bytes, the bytes of every
// profile a sandbox uses (sorted by name) and the private key's fingerprint.
// Each part is length-prefixed so that no two declarations collide by shifting bytes.
func (c *Config) hash(kmYAML []byte) string {
	h := sha256.New()
	part(h, "km.yaml", kmYAML)
	used := map[string]bool{}
	for _, sb := range c.Sandboxes {
		used[sb.Profile] = true
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if p := c.Profiles[n]; p != nil {
			part(h, "profile "+n, p.raw)
		}
	}
	part(h, "key", []byte(c.GitHub.KeyFingerprint))
	return hex.EncodeToString(h.Sum(nil))
}

func part(h hash.Hash, label string, data []byte) {
	fmt.Fprintf(h, "%s %d\n", label, len(data))
	h.Write(data)
}
