package sandboxes_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/sandboxes"
)

// km refresh fires a sandbox's schedule now through the deployed refresher:
// every owner's token is replaced by a new one, plan stays empty, and a
// refusal by GitHub comes back with its cause.
func TestRefreshFiresTheScheduleNow(t *testing.T) {
	f := newFixture(t, "kmref", []string{"sb-ref1"})
	f.Apply()
	logs := f.StartRefresher()
	ctx := context.Background()
	before := map[string]string{}
	for _, p := range []string{"/sandbox/" + f.ID("sb-ref1") + "/github-token", "/sandbox/" + f.ID("sb-ref1") + "/github-token-my-org"} {
		got, err := f.AWS.GetParameter(ctx, p, true)
		if err != nil {
			t.Fatal(err)
		}
		before[p] = got.Value
	}

	res, err := f.Refresh(f.ID("sb-ref1"))
	if err != nil {
		t.Fatalf("refresh: %v\nrefresher output:\n%s", err, logs)
	}
	if len(res.Tokens) != 2 {
		t.Fatalf("refreshed %d tokens, want 2: %+v", len(res.Tokens), res)
	}
	for p, old := range before {
		got, err := f.AWS.GetParameter(ctx, p, true)
		if err != nil {
			t.Fatal(err)
		}
		if got.Value == old {
			t.Errorf("%s still holds the token km apply minted", p)
		}
		if _, ok := f.Sim.LookupToken(got.Value); !ok {
			t.Errorf("%s holds a token githubsim never issued", p)
		}
		b, _ := json.Marshal(res)
		if strings.Contains(string(b), got.Value) || strings.Contains(logs.String(), got.Value) {
			t.Errorf("the token of %s appears in the result or the refresher's output", p)
		}
	}
	if p := f.Plan(); p.HasChanges() {
		t.Fatalf("plan after the refresher's write: %v", fleettest.Actions(p))
	}

	// GitHub refuses: the repository left the installation.
	f.Sim.RemoveRepoFromInstallation(f.Written.UserInst, "my-repo")
	_, err = f.Refresh(f.ID("sb-ref1"))
	if err == nil || !strings.Contains(err.Error(), "a repository left the installation") || !strings.Contains(err.Error(), f.ID("sb-ref1")) {
		t.Fatalf("refresh after the repository left: %v", err)
	}
	if errors.Is(err, sandboxes.ErrRefreshHandedOn) {
		t.Error("a 422 was handed on to the relay")
	}

	if _, err := f.Refresh(f.ID("sb-nope")); err == nil || !strings.Contains(err.Error(), "has no refresh schedule") {
		t.Fatalf("refresh of an undeclared sandbox: %v", err)
	}
}
