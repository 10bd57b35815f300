package setup_test

import (
	"testing"

	"github.com/klankermaker/km/internal/configtest"
	"github.com/klankermaker/km/internal/githubsim"
)

// fixture is configtest's Fixture with this package's helpers.
type fixture struct{ *configtest.Fixture }

func newFixture(t *testing.T, simOpts ...githubsim.Option) *fixture {
	return &fixture{configtest.New(t, simOpts...)}
}
