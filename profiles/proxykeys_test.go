package profiles

import (
	"slices"
	"strings"
	"testing"
)

// TestProxyKeys covers the keys km proxy reads: spec.network.enforcement and
// spec.sourceAccess.github.allowedEndpoints (accepted values and the
// file:line:col of each refusal).
func TestProxyKeys(t *testing.T) {
	tests := []struct {
		name        string
		pairs       []string // patch of baseProfile
		enforcement string
		endpoints   []string
		wantPos     string // error expected at profiles/p.yaml:LINE:COL
		frag        string
	}{
		{name: "defaults", enforcement: EnforcementHook},
		{name: "proxy", pairs: []string{"network: {egress: open}", "network: {egress: open, enforcement: proxy}"}, enforcement: EnforcementProxy},
		{name: "hook", pairs: []string{"network: {egress: open}", "network:\n    enforcement: hook"}, enforcement: EnforcementHook},
		{name: "network not a mapping is someone else's", pairs: []string{"network: {egress: open}", "network: open"}, enforcement: EnforcementHook},
		{name: "endpoints", pairs: []string{"      permissions:", "      allowedEndpoints: [graphql, search, graphql]\n      permissions:"},
			enforcement: EnforcementHook, endpoints: []string{"graphql", "search"}},
		{name: "unknown enforcement", pairs: []string{"network: {egress: open}", "network: {enforcement: proxi}"},
			wantPos: "profiles/p.yaml:6:26", frag: `spec.network.enforcement: unknown value "proxi"; expected hook (the pre-push hook only, the default) or proxy`},
		{name: "none is not a mode", pairs: []string{"network: {egress: open}", "network:\n    enforcement: none"},
			wantPos: "profiles/p.yaml:7:18", frag: `unknown value "none"`},
		{name: "enforcement not a string", pairs: []string{"network: {egress: open}", "network:\n    enforcement: [proxy]"},
			wantPos: "profiles/p.yaml:7:18", frag: "spec.network.enforcement: found a list; expected hook"},
		{name: "enforcement empty", pairs: []string{"network: {egress: open}", "network:\n    enforcement:"},
			wantPos: "profiles/p.yaml:7:17", frag: "spec.network.enforcement is empty"},
		{name: "unknown endpoint", pairs: []string{"      permissions:", "      allowedEndpoints: [graphql, gist]\n      permissions:"},
			wantPos: "profiles/p.yaml:11:35", frag: `allowedEndpoints: unknown endpoint "gist"; expected one of graphql, search, user, gists, orgs; did you mean "gists"?`},
		{name: "endpoints not a list", pairs: []string{"      permissions:", "      allowedEndpoints: graphql\n      permissions:"},
			wantPos: "profiles/p.yaml:11:25", frag: "spec.sourceAccess.github.allowedEndpoints: found the string \"graphql\"; expected a list of graphql, search, user, gists, orgs"},
		{name: "mistyped key is still strict", pairs: []string{"      permissions:", "      allowedEndpoint: [graphql]\n      permissions:"},
			wantPos: "profiles/p.yaml:11:7", frag: `unknown key "allowedEndpoint"; expected one of allowedRepos, allowedRefs, permissions, allowedEndpoints; did you mean "allowedEndpoints"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inTempDir(t, map[string]string{"km.yaml": baseKM, "profiles/p.yaml": patch(t, baseProfile, tt.pairs...)})
			cfg, err := Load("km.yaml")
			if tt.wantPos != "" {
				list := mustErrors(t, err)
				if len(list) != 1 || posOf(list[0]) != tt.wantPos || !strings.Contains(list[0].Msg, tt.frag) {
					t.Fatalf("errors %v; want one at %s containing %q", err, tt.wantPos, tt.frag)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := cfg.Profile("p")
			if p.Enforcement != tt.enforcement || !slices.Equal(p.AllowedEndpoints, tt.endpoints) {
				t.Errorf("enforcement %q endpoints %q; want %q %q", p.Enforcement, p.AllowedEndpoints, tt.enforcement, tt.endpoints)
			}
		})
	}
}
