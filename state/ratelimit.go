package state

import (
	"context"
	"fmt"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"

	"github.com/klankermaker/km/internal/quota"
)

// pacer paces every request attempt by the quota table's bucket of its API,
// so km stays under AWS's request rates instead of being throttled. One pacer
// serves all the service clients of one AWS value.
type pacer struct {
	table    quota.Table
	limiters map[string]*rate.Limiter // by bucket
}

func newPacer(t quota.Table) *pacer {
	p := &pacer{table: t, limiters: map[string]*rate.Limiter{}}
	for _, l := range t.Buckets() {
		p.limiters[l.Bucket] = rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst)
	}
	return p
}

// wait blocks until the API's bucket has a token (or ctx ends).
func (p *pacer) wait(ctx context.Context, api string) error {
	l, ok := p.table.Lookup(api)
	if !ok {
		return nil
	}
	if err := p.limiters[l.Bucket].Wait(ctx); err != nil {
		return fmt.Errorf("waiting for the %s request rate (%.3g/s, quota bucket %s): %w", api, l.PerSecond, l.Bucket, err)
	}
	return nil
}

// middleware runs inside the SDK's retry loop, so every attempt, retries
// included, takes a token.
func (p *pacer) middleware(stack *middleware.Stack) error {
	mw := middleware.FinalizeMiddlewareFunc("kmQuotaPacer",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			api := quota.Key(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
			if err := p.wait(ctx, api); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		})
	if _, ok := stack.Finalize.Get("Retry"); ok {
		return stack.Finalize.Insert(mw, "Retry", middleware.After)
	}
	return stack.Finalize.Add(mw, middleware.After)
}
