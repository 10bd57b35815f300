package state_test

import (
	"context"
	"testing"

	"github.com/klankermaker/km/state/statetest"
)

func TestCallerIdentity(t *testing.T) {
	a, _, _ := statetest.NewKumo(t)
	id, err := a.CallerIdentity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Account) != 12 || id.ARN == "" || id.UserID == "" {
		t.Errorf("CallerIdentity = %+v", id)
	}
}
