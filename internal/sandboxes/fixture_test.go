package sandboxes_test

import (
	"testing"

	"github.com/klankermaker/km/internal/fleettest"
	"github.com/klankermaker/km/internal/refreshertest"
)

// refresher is cmd/km-refresher, built once for this test binary.
var refresher refreshertest.Binary

func newFixture(t *testing.T, prefix string, ids []string) *fleettest.Fixture {
	return fleettest.New(t, &refresher, prefix, ids)
}
