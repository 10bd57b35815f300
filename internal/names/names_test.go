package names_test

import (
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/profiles"
)

// The refresher checks sandbox ids with names (it must not import
// profiles); both must accept exactly the same ids.
func TestCheckSandboxIDAgreesWithTheDeclaration(t *testing.T) {
	ids := []string{
		"sb-7f3a9c", "a", "sb", "", "../x", "sb/x", "sb-x/../y", "Sb-x", "1sb", "-sb", "sb_x", "sb.x", "sb-",
		"s" + strings.Repeat("1", 47), "s" + strings.Repeat("1", 48), "s" + strings.Repeat("a", 63), "s" + strings.Repeat("a", 64),
		"sb x", "sb-é",
	}
	for _, prefix := range []string{"km", "a-much-longer-prefix"} {
		for _, id := range ids {
			decl := profiles.CheckSandboxID(id, prefix)
			got := names.New(prefix).CheckSandboxID(id)
			if (decl == nil) != (got == nil) {
				t.Errorf("prefix %s, id %q: declaration says %v, names says %v", prefix, id, decl, got)
			}
		}
	}
}
