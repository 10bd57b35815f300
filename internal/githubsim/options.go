package githubsim

import "time"

// Option configures a Server.
type Option func(*config)

type config struct {
	clock      func() time.Time
	tokenTTL   time.Duration
	gitRoot    string
	validate   bool
	perPageMax int
	webUser    string
	keyBits    int
}

func defaultConfig() config {
	return config{
		clock:      time.Now,
		tokenTTL:   time.Hour,
		perPageMax: 100,
		webUser:    "octocat",
		keyBits:    2048,
	}
}

// WithClock sets the clock used for token expiry, JWT checks, manifest codes
// and timestamps. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithTokenTTL sets the lifetime of installation access tokens (default 1h,
// as GitHub).
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) { c.tokenTTL = d }
}

// WithGitRoot sets the directory holding the bare repositories
// ({dir}/{owner}/{name}.git). The default is a temporary directory removed by
// Close; a directory given here is left in place.
func WithGitRoot(dir string) Option {
	return func(c *config) { c.gitRoot = dir }
}

// WithOpenAPIValidation validates every API request and response against
// GitHub's OpenAPI description; failures are collected in ValidationErrors.
func WithOpenAPIValidation() Option {
	return func(c *config) { c.validate = true }
}

// WithPerPageMax sets the largest accepted per_page (default 100, as GitHub);
// larger values are clamped.
func WithPerPageMax(n int) Option {
	return func(c *config) { c.perPageMax = n }
}

// WithWebUser sets the login of the user signed in to the web side, who owns
// Apps created through /settings/apps/new and by CreateApp (default
// "octocat").
func WithWebUser(login string) Option {
	return func(c *config) { c.webUser = login }
}

// WithKeyBits sets the size of the RSA keys generated for the App (default
// 2048, as GitHub; at least 1024). Tests that create many Apps may use 1024:
// generating it is several times faster.
func WithKeyBits(bits int) Option {
	return func(c *config) { c.keyBits = bits }
}
