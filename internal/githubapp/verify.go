package githubapp

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// VerifyGrant checks a minted token before it may be stored (by km apply and
// by the refresher alike): a
// value, an expiry after now, and exactly the requested scope. When specific
// repositories were requested, GitHub must have granted exactly those (case
// does not matter); when permissions were requested, GitHub must have granted
// exactly those at the same level, except that metadata: read, which GitHub
// includes in every installation token, may appear unasked. A request for all
// repositories (none named) accepts whatever list GitHub reports.
func VerifyGrant(req TokenRequest, tok Token, now time.Time) error {
	if tok.Value == "" {
		return fmt.Errorf("GitHub returned an empty token")
	}
	if !tok.ExpiresAt.After(now) {
		return fmt.Errorf("GitHub returned a token expiring at %s, which is not after now (%s); check the clock",
			tok.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	var diffs []string
	if len(req.Repositories) > 0 {
		missing, extra := setDiff(req.Repositories, tok.Repositories)
		if len(missing) > 0 {
			diffs = append(diffs, "repositories not granted: "+strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			diffs = append(diffs, "repositories granted unasked: "+strings.Join(extra, ", "))
		}
	}
	if len(req.Permissions) > 0 {
		want := lowerMap(req.Permissions)
		got := lowerMap(tok.Permissions)
		for _, k := range sortedKeys(want) {
			if got[k] != want[k] {
				diffs = append(diffs, fmt.Sprintf("permission %s: asked %s, granted %s", k, want[k], orNone(got[k])))
			}
		}
		for _, k := range sortedKeys(got) {
			if _, asked := want[k]; !asked && !(k == "metadata" && got[k] == "read") {
				diffs = append(diffs, fmt.Sprintf("permission %s: granted %s unasked", k, got[k]))
			}
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("GitHub granted a different scope than requested (%s); the token was not stored", strings.Join(diffs, "; "))
	}
	return nil
}

// setDiff compares two name lists case-insensitively.
func setDiff(want, got []string) (missing, extra []string) {
	w := map[string]bool{}
	for _, s := range want {
		w[strings.ToLower(s)] = true
	}
	g := map[string]bool{}
	for _, s := range got {
		g[strings.ToLower(s)] = true
	}
	for _, s := range sortedKeys(w) {
		if !g[s] {
			missing = append(missing, s)
		}
	}
	for _, s := range sortedKeys(g) {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	return missing, extra
}

func lowerMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = strings.ToLower(v)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
