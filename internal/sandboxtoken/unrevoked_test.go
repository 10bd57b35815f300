package sandboxtoken_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state/statetest"
)

// Records are one per parameter version (recording twice overwrites), hold
// a hash and an expiry only, and disappear from the list once expired;
// listing with deleteExpired removes them from SSM.
func TestUnrevokedRecords(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	n := names.New("kmrec")
	now := time.Now().UTC().Truncate(time.Second)
	recs := []sandboxtoken.Unrevoked{
		{Sandbox: "sb-a", Parameter: "/sandbox/sb-a/github-token", Version: 3, TokenSHA: "aaaaaaaaaaaa", ExpiresAt: now.Add(40 * time.Minute), Reason: "r"},
		{Sandbox: "sb-a", Parameter: "/sandbox/sb-a/github-token", FromVersion: 1, Version: 2, ExpiresAt: now.Add(10 * time.Minute), Reason: "r"},
		{Sandbox: "sb-b", Parameter: "/sandbox/sb-b/github-token-my-org", Version: 1, TokenSHA: "bbbbbbbbbbbb", ExpiresAt: now.Add(-time.Minute), Reason: "r"},
	}
	for _, u := range append(recs, recs[0]) {
		if err := sandboxtoken.RecordUnrevoked(ctx, a, n, u); err != nil {
			t.Fatal(err)
		}
	}
	got, err := sandboxtoken.ListUnrevoked(ctx, a, n, now, false)
	if err != nil || len(got) != 2 || got[0].Hash() != "(versions 1-2, hash unknown)" || got[1].TokenSHA != "aaaaaaaaaaaa" {
		t.Fatalf("list: %+v %v", got, err)
	}
	if s := got[1].String(); !strings.Contains(s, "aaaaaaaaaaaa") || !strings.Contains(s, now.Add(40*time.Minute).Format(time.RFC3339)) {
		t.Errorf("warning %q lacks the hash or the expiry", s)
	}
	if _, err := sandboxtoken.ListUnrevoked(ctx, a, n, now.Add(20*time.Minute), true); err != nil {
		t.Fatal(err)
	}
	ps, _ := a.DescribeParameters(ctx, n.UnrevokedPath())
	if len(ps) != 1 || !strings.HasSuffix(ps[0].Name, "/sb-a/github-token-v3") {
		t.Errorf("records left after deleting the expired ones: %+v", ps)
	}
}
