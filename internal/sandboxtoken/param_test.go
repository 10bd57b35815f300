package sandboxtoken_test

import (
	"testing"

	"github.com/klankermaker/km/internal/sandboxtoken"
)

func TestTokenParamOwner(t *testing.T) {
	tests := []struct {
		param       string
		owner       string
		first, want bool
	}{
		{"/sandbox/sb-1/github-token", "", true, true},
		{"/sandbox/sb-1/github-token-my-org", "my-org", false, true},
		{"/sandbox/sb-1/github-token-enterprise_user", "enterprise_user", false, true},
		{"/sandbox/sb-2/github-token", "", false, false},
		{"/sandbox/sb-1/github-token-", "", false, false},
		{"/sandbox/sb-1/github-token-My-Org", "", false, false},
		{"/sandbox/sb-1/github-token-a/b", "", false, false},
		{"/sandbox/sb-1/github-token-..", "", false, false},
		{"/km/config/github/private-key", "", false, false},
		{"/sandbox/sb-1/other", "", false, false},
	}
	for _, tc := range tests {
		owner, first, ok := sandboxtoken.ParamOwner("sb-1", tc.param)
		if ok != tc.want || owner != tc.owner || first != tc.first {
			t.Errorf("%s: (%q, %v, %v), want (%q, %v, %v)", tc.param, owner, first, ok, tc.owner, tc.first, tc.want)
		}
	}
}

func TestParamNames(t *testing.T) {
	for _, tc := range []struct {
		id, owner string
		first     bool
		want      string
	}{
		{"sb-1", "acme", true, "/sandbox/sb-1/github-token"},
		{"sb-1", "My-Org", false, "/sandbox/sb-1/github-token-my-org"},
	} {
		if got := sandboxtoken.Param(tc.id, tc.owner, tc.first); got != tc.want {
			t.Errorf("Param(%q, %q, %v) = %q, want %q", tc.id, tc.owner, tc.first, got, tc.want)
		}
	}
	if got := sandboxtoken.ParamPatterns("sb-1"); len(got) != 2 || got[0] != "/sandbox/sb-1/github-token" || got[1] != "/sandbox/sb-1/github-token-*" {
		t.Errorf("ParamPatterns = %v", got)
	}
	if got := sandboxtoken.SandboxFolder("sb-1"); got != "/sandbox/sb-1" {
		t.Errorf("SandboxFolder = %q", got)
	}
}
