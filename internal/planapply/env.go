package planapply

import (
	"context"
	"fmt"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/state"
)

// What the commands that run without a Session (km github, configure
// github, doctor, otel) take from Env.

// Clock is Now, or time.Now when unset.
func (e Env) Clock() func() time.Time {
	if e.Now != nil {
		return e.Now
	}
	return time.Now
}

// Connect returns e.AWS when set (tests), else AWS clients from the SDK's
// standard chain for cfg's region (or the chain's), with e.StateOptions.
func (e Env) Connect(ctx context.Context, cfg *profiles.Config) (*state.AWS, error) {
	if e.AWS != nil {
		return e.AWS, nil
	}
	opts := e.StateOptions
	if opts.Region == "" {
		opts.Region = cfg.Region
	}
	a, err := state.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to AWS: %w", err)
	}
	return a, nil
}

// GitHubOptions are the githubapp options for cfg's API URL.
func (e Env) GitHubOptions(cfg *profiles.Config) githubapp.Options {
	return githubapp.Options{APIURL: cfg.GitHub.APIURL, UserAgent: "km", Now: e.Now}
}

// AppClient is a client authenticated as the App with this client id and
// private key (PEM; never printed or returned in an error).
func (e Env) AppClient(cfg *profiles.Config, clientID string, pemBytes []byte) (*githubapp.Client, error) {
	key, err := githubapp.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("the App private key: %w", err)
	}
	auth := githubapp.AppAuth{ClientID: clientID, Signer: githubapp.NewRSASigner(key), Now: e.Clock()}
	return githubapp.NewAppClient(auth, e.GitHubOptions(cfg)), nil
}
