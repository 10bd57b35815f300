// Package statetest starts kumo, the in-process AWS emulator, and returns
// state clients pointed at it, for the tests of any package. Every kumo server
// in one process shares one store and there is no reset: give each test its
// own names.
//
// It must not import reconcile or cmd/*.
package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	"github.com/sivchari/kumo"

	"github.com/klankermaker/km/internal/quota"
	"github.com/klankermaker/km/state"
)

// Region is the region of every client this package builds.
const Region = "us-east-1"

// FastBackoff is the retry backoff of test clients: retried calls stay fast.
var FastBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
	return 5 * time.Millisecond, nil
})

// NewKumo starts a kumo server (closed when the test ends) and returns a
// client for it with a Recorder attached, dummy static credentials and region
// us-east-1, plus the server's endpoint URL.
func NewKumo(t testing.TB) (*state.AWS, *state.Recorder, string) {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	a, rec := Client(t, srv.URL, state.Options{})
	return a, rec, srv.URL
}

// Client returns another client for endpoint with its own Recorder. Unset
// fields of o get test defaults: FastBackoff, a 20 ms lock poll interval and
// AWS's quotas sped up 1,000 times.
// o.APIOptions are kept after the recorder.
func Client(t testing.TB, endpoint string, o state.Options) (*state.AWS, *state.Recorder) {
	t.Helper()
	cfg := Config(t, endpoint)
	rec := &state.Recorder{}
	o.APIOptions = append([]func(*middleware.Stack) error{rec.Middleware()}, o.APIOptions...)
	if o.RetryBackoff == nil {
		o.RetryBackoff = FastBackoff
	}
	if o.LockPollInterval == 0 {
		o.LockPollInterval = 20 * time.Millisecond
	}
	if o.Quotas == nil {
		// Paced as in production, at 1,000 times AWS's rates: kumo has no
		// quotas and the suite stays fast.
		t := quota.Default().Scaled(1000)
		o.Quotas = &t
	}
	return state.NewFromConfig(cfg, o), rec
}

// Config is an aws.Config for endpoint with dummy static credentials and
// region us-east-1.
func Config(t testing.TB, endpoint string) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDKUMOTEST", "kumo-test-secret", "")),
		config.WithBaseEndpoint(endpoint),
	)
	if err != nil {
		t.Fatalf("statetest: load AWS config for kumo at %s: %v", endpoint, err)
	}
	return cfg
}
