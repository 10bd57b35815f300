package profiles

import "testing"

// TestPushRefAllowed is the shared rule of the pre-push hook and km proxy:
// branches match plain patterns, tags only refs/tags/ patterns, other refs only
// full refs/ patterns.
func TestPushRefAllowed(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		ref      string
		want     bool
	}{
		{"no patterns allow a branch", nil, "refs/heads/dev", true},
		{"no patterns allow a tag", nil, "refs/tags/v1", true},
		{"branch by short name", []string{"main"}, "refs/heads/main", true},
		{"other branch", []string{"main"}, "refs/heads/dev", false},
		{"glob crosses /", []string{"release/*"}, "refs/heads/release/a/b", true},
		{"branch by full pattern", []string{"refs/heads/main"}, "refs/heads/main", true},
		{"full pattern is not a short name", []string{"refs/heads/main"}, "refs/heads/refs/heads/main", false},
		{"tag named like an allowed branch", []string{"main"}, "refs/tags/main", false},
		{"tag by * is refused", []string{"*"}, "refs/tags/v1", false},
		{"tag by v* is refused", []string{"v*"}, "refs/tags/v1", false},
		{"tag by refs/tags/v*", []string{"main", "refs/tags/v*"}, "refs/tags/v1", true},
		{"refs/tags/main by refs/tags/*", []string{"refs/tags/*"}, "refs/tags/main", true},
		{"refs/tags/v* does not allow a branch v1", []string{"refs/tags/v*"}, "refs/heads/v1", false},
		{"refs/* does not allow tags", []string{"refs/*"}, "refs/tags/v1", false},
		{"refs/* allows branches", []string{"refs/*"}, "refs/heads/x", true},
		{"notes need a full pattern", []string{"*"}, "refs/notes/commits", false},
		{"notes by full pattern", []string{"refs/notes/*"}, "refs/notes/commits", true},
		{"HEAD is not a branch", []string{"*"}, "HEAD", false},
		{"case matters", []string{"main"}, "refs/heads/Main", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PushRefAllowed(tt.patterns, tt.ref); got != tt.want {
				t.Errorf("PushRefAllowed(%q, %q) = %v, want %v", tt.patterns, tt.ref, got, tt.want)
			}
		})
	}
}

func TestRefDisplayName(t *testing.T) {
	for ref, want := range map[string]string{
		"refs/heads/dev":       "dev",
		"refs/heads/release/2": "release/2",
		"refs/tags/main":       "refs/tags/main",
		"refs/notes/commits":   "refs/notes/commits",
		"refs/heads/":          "refs/heads/",
	} {
		if got := RefDisplayName(ref); got != want {
			t.Errorf("RefDisplayName(%q) = %q, want %q", ref, got, want)
		}
	}
}
