package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"golang.org/x/time/rate"
)

// DefaultAPIURL is github.com's REST API.
const DefaultAPIURL = "https://api.github.com/"

// Options configures a Client. The zero value talks to api.github.com.
type Options struct {
	// APIURL is the REST API root: https://api.github.com, https://HOST/api/v3
	// for GitHub Enterprise Server, or a simulator's URL. It is used as is
	// (a trailing slash is added); nothing is appended.
	APIURL     string
	HTTPClient *http.Client // nil: a new client on http.DefaultTransport
	UserAgent  string       // default "km"
	// MaxRetries is how many times a retryable failure is retried
	// (0: DefaultMaxRetries; negative: never).
	MaxRetries int
	// MaxRetryWait is the longest single wait the client accepts; a longer
	// Retry-After or rate-limit reset ends retrying (0: DefaultMaxRetryWait).
	MaxRetryWait time.Duration
	Now          func() time.Time                                 // nil: time.Now
	Sleep        func(ctx context.Context, d time.Duration) error // nil: SleepContext
	// Mints paces CreateToken to the App's mint budget (the github:mints
	// row of the quota table); nil: unpaced. Share one limiter between the
	// clients of one App.
	Mints *rate.Limiter
}

// Client talks to one GitHub API as the App, as a token, or anonymously.
// It is safe for concurrent use.
type Client struct {
	gh      *github.Client
	auth    authKind
	now     func() time.Time
	mints   *rate.Limiter
	initErr error
}

type authKind int

const (
	authAnonymous authKind = iota
	authApp
	authToken
)

// NewAppClient returns a client authenticated as the App: every request
// carries a freshly signed JWT.
func NewAppClient(auth AppAuth, o Options) *Client {
	return newClient(o, authApp, func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			jwt, err := auth.JWT()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Header.Set("Authorization", "Bearer "+jwt)
			return next.RoundTrip(req)
		})
	})
}

// NewTokenClient returns a client authenticated with token: an installation
// token or a GITHUB_TOKEN.
func NewTokenClient(token string, o Options) *Client {
	return newClient(o, authToken, func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			req = req.Clone(req.Context())
			req.Header.Set("Authorization", "Bearer "+token)
			return next.RoundTrip(req)
		})
	})
}

// NewAnonymousClient returns an unauthenticated client, enough for the App
// manifest conversion.
func NewAnonymousClient(o Options) *Client {
	return newClient(o, authAnonymous, func(next http.RoundTripper) http.RoundTripper { return next })
}

func newClient(o Options, kind authKind, withAuth func(http.RoundTripper) http.RoundTripper) *Client {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	hc := &http.Client{}
	if o.HTTPClient != nil {
		copied := *o.HTTPClient
		hc = &copied
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// Retry outermost so that every attempt is signed afresh.
	hc.Transport = newRetryTransport(withAuth(base), o)

	gh := github.NewClient(hc)
	ua := o.UserAgent
	if ua == "" {
		ua = "km"
	}
	gh.UserAgent = ua
	c := &Client{gh: gh, auth: kind, now: now, mints: o.Mints}
	apiURL := o.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.initErr = fmt.Errorf("GitHub API URL %q is not an http(s) URL; set github.apiURL in km.yaml (or KM_GITHUB_API_URL), e.g. https://api.github.com or https://HOST/api/v3", apiURL)
		return c
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	gh.BaseURL = u
	gh.UploadURL = u
	return c
}

// GitHub returns the underlying go-github client (authenticated and
// retrying) for calls this package does not wrap.
func (c *Client) GitHub() *github.Client { return c.gh }

// APIURL returns the API root the client talks to.
func (c *Client) APIURL() string { return c.gh.BaseURL.String() }

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
