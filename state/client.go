package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/internal/quota"
)

// Options tunes the clients New and NewFromConfig build. The zero value is the
// production setting.
type Options struct {
	// Region overrides the region of the standard chain (AWS_REGION, AWS_PROFILE).
	Region string
	// APIOptions are extra smithy middleware added to every client, e.g.
	// (*Recorder).Middleware.
	APIOptions []func(*middleware.Stack) error
	// HTTPClient replaces the SDK's HTTP client (optional).
	HTTPClient aws.HTTPClient
	// MaxAttempts caps the attempts of one operation, retries included
	// (0: the SDK default, 3).
	MaxAttempts int
	// RetryBackoff replaces the SDK's exponential jitter backoff (optional;
	// tests use a short one so that retried calls stay fast).
	RetryBackoff retry.BackoffDelayer
	// LockPollInterval is how often AcquireLock re-reads a held lock while it
	// waits (0: one second).
	LockPollInterval time.Duration
	// LambdaMaxWait bounds the wait for a function to become Active or
	// Successful after a create or update (0: five minutes).
	LambdaMaxWait time.Duration
	// Logger receives the SDK's own log lines (nil: the SDK's default, plain
	// text on stderr). The refresher routes them into its JSON log.
	Logger logging.Logger
	// Quotas paces every request attempt by its API's request rate (nil:
	// quota.Default(), AWS's documented defaults; km.yaml's quotas section
	// overrides them). NoPacing turns pacing off.
	Quotas   *quota.Table
	NoPacing bool
	// RetryBudget is the retry token bucket shared by every service client
	// (the SDK's retry quota: a retry costs 5 tokens, a timeout 10; 0: 500,
	// the SDK default). When it is empty, failures are returned instead of
	// retried, so an outage is not multiplied by retries.
	RetryBudget uint

	retryBudget retry.RateLimiter
}

// AWS reads and writes km's live resources. One value serves every service;
// it is safe for concurrent use.
type AWS struct {
	region string

	ssm       *ssm.Client
	kms       *kms.Client
	scheduler *scheduler.Client
	lambda    *lambda.Client
	iam       *iam.Client
	logs      *cloudwatchlogs.Client
	sts       *sts.Client

	// roleRetryer retries lambda CreateFunction/UpdateFunctionConfiguration
	// while IAM propagates a new role to Lambda.
	roleRetryer aws.Retryer
	// principalRetryer retries KMS CreateKey/PutKeyPolicy while IAM
	// propagates a principal the key policy names.
	principalRetryer aws.Retryer

	lockPoll      time.Duration
	lambdaMaxWait time.Duration
}

// New loads the standard AWS configuration chain (AWS_REGION, AWS_PROFILE,
// AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, shared config files) and builds
// the clients with the SDK's standard retryer, paced by the quota table.
func New(ctx context.Context, o Options) (*AWS, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration (AWS_PROFILE, AWS_REGION, ~/.aws/config): %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set region in km.yaml, AWS_REGION, or a region in your AWS profile")
	}
	return NewFromConfig(cfg, o), nil
}

// NewFromConfig builds the clients from cfg. Unless cfg already carries a
// retryer, the SDK's standard retryer is used.
func NewFromConfig(cfg aws.Config, o Options) *AWS {
	if o.Region != "" {
		cfg.Region = o.Region
	}
	if o.HTTPClient != nil {
		cfg.HTTPClient = o.HTTPClient
	}
	if o.Logger != nil {
		cfg.Logger = o.Logger
	}
	if !o.NoPacing {
		t := quota.Default()
		if o.Quotas != nil {
			t = *o.Quotas
		}
		o.APIOptions = append([]func(*middleware.Stack) error{newPacer(t).middleware}, o.APIOptions...)
	}
	if o.RetryBudget == 0 {
		o.RetryBudget = 500
	}
	o.retryBudget = ratelimit.NewTokenRateLimit(o.RetryBudget)
	if len(o.APIOptions) > 0 {
		apiOptions := make([]func(*middleware.Stack) error, 0, len(cfg.APIOptions)+len(o.APIOptions))
		apiOptions = append(apiOptions, cfg.APIOptions...)
		cfg.APIOptions = append(apiOptions, o.APIOptions...)
	}
	switch {
	case cfg.Retryer == nil:
		cfg.Retryer = func() aws.Retryer { return newRetryer(o, nil) }
	case o.MaxAttempts > 0:
		base := cfg.Retryer
		cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(base(), o.MaxAttempts) }
	}

	a := &AWS{
		region:           cfg.Region,
		ssm:              ssm.NewFromConfig(cfg),
		kms:              kms.NewFromConfig(cfg),
		scheduler:        scheduler.NewFromConfig(cfg),
		lambda:           lambda.NewFromConfig(cfg),
		iam:              iam.NewFromConfig(cfg),
		logs:             cloudwatchlogs.NewFromConfig(cfg),
		sts:              sts.NewFromConfig(cfg),
		roleRetryer:      newRetryer(o, roleRetry),
		principalRetryer: newRetryer(o, principalRetry),
		lockPoll:         o.LockPollInterval,
		lambdaMaxWait:    o.LambdaMaxWait,
	}
	if a.lockPoll <= 0 {
		a.lockPoll = time.Second
	}
	if a.lambdaMaxWait <= 0 {
		a.lambdaMaxWait = 5 * time.Minute
	}
	return a
}

// Region is the region the clients talk to.
func (a *AWS) Region() string { return a.region }

// newRetryer is the SDK's standard retryer (km paces itself by the quota
// table, so the adaptive mode's own slow-down after a throttle would only
// halve the pace), drawing retries from the shared retry budget. extra, when
// set, is an additional retryable classifier with its own, longer attempt
// budget.
func newRetryer(o Options, extra retry.IsErrorRetryable) aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		if o.MaxAttempts > 0 {
			so.MaxAttempts = o.MaxAttempts
		}
		if extra != nil {
			so.Retryables = append(so.Retryables, extra)
			// IAM needs up to ~10 s to make a new role assumable by
			// Lambda: allow ~30 s in total.
			so.MaxAttempts = max(so.MaxAttempts, 10)
			so.BaseDelay = 500 * time.Millisecond
			so.MaxBackoff = 10 * time.Second
		}
		if o.RetryBackoff != nil {
			so.Backoff = o.RetryBackoff
		}
		if o.retryBudget != nil {
			so.RateLimiter = o.retryBudget
		}
	})
}
