package lambda

import (
	"context"
	"crypto/rsa"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
)

// Minter mints installation tokens; *githubapp.Client implements it.
type Minter interface {
	CreateToken(ctx context.Context, req githubapp.TokenRequest) (githubapp.Token, error)
}

// GitHubRetries is how many times one token request is retried on 5xx, 429
// and secondary rate limits. The invocation's deadline (less WriteReserve)
// bounds the waits before this count does: githubapp's transport never
// sleeps past the context deadline.
const GitHubRetries = 8

// GitHubOptions are the githubapp client options the refresher uses for
// apiURL: the retrying transport with GitHubRetries and the given clock.
func GitHubOptions(apiURL string, now func() time.Time) githubapp.Options {
	return githubapp.Options{
		APIURL:     apiURL,
		UserAgent:  "km-refresher",
		MaxRetries: GitHubRetries,
		Now:        now,
	}
}

// AppMinter returns the Handler.NewGitHub factory that authenticates as the
// App with an RS256 JWT signed by key and talks to GitHub with o.
func AppMinter(o githubapp.Options) func(clientID string, key *rsa.PrivateKey) Minter {
	return func(clientID string, key *rsa.PrivateKey) Minter {
		auth := githubapp.AppAuth{ClientID: clientID, Signer: githubapp.NewRSASigner(key), Now: o.Now}
		return githubapp.NewAppClient(auth, o)
	}
}
