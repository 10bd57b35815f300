package sandboxtoken_test

import (
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/sandboxtoken"
)

func TestRevokeRequestDecoding(t *testing.T) {
	tests := []struct {
		name, in, action, err string
	}{
		{"revoke", `{"action":"revoke","sandbox_id":"sb-1","parameters":[{"name":"/sandbox/sb-1/github-token","below_version":3}]}`, "revoke", ""},
		{"refresh (seed payload)", `{"sandbox_id":"sb-1","installation_id":1}`, "", "want \"revoke\""},
		{"not JSON", `{"action":`, "", "not valid JSON"},
		{"no sandbox", `{"action":"revoke","parameters":[{"name":"x"}]}`, "revoke", "no sandbox_id"},
		{"no parameters", `{"action":"revoke","sandbox_id":"sb-1"}`, "revoke", "names no parameters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sandboxtoken.ActionOf([]byte(tc.in)); got != tc.action {
				t.Errorf("ActionOf = %q, want %q", got, tc.action)
			}
			r, err := sandboxtoken.DecodeRevoke([]byte(tc.in))
			if tc.err == "" {
				if err != nil || r.Parameters[0].BelowVersion != 3 {
					t.Fatalf("DecodeRevoke: %+v %v", r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("DecodeRevoke error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestRevokeOutcomeLive(t *testing.T) {
	for outcome, live := range map[string]bool{
		sandboxtoken.OutcomeRevoked: false, sandboxtoken.OutcomeDead: false, sandboxtoken.OutcomeExpired: false,
		sandboxtoken.OutcomeFailed: true, sandboxtoken.OutcomeUnreadable: true, sandboxtoken.OutcomeDeferred: false, sandboxtoken.OutcomeMissing: false,
	} {
		if got := (sandboxtoken.RevokeOutcome{Outcome: outcome}).Live(); got != live {
			t.Errorf("%s: Live() = %v, want %v", outcome, got, live)
		}
	}
}
