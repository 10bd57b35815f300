package planapply_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/faultproxy"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/quota"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// quotaRun applies n new sandboxes through a proxy enforcing AWS's default
// quotas sped up by speedup, with km pacing itself by the same table, then
// plans. It returns the apply's wall time and quota bound (the largest
// calls/rate over the buckets), the plan's, the throttles the proxy answered,
// and the plan's calls per sandbox.
type quotaFigures struct {
	applyWall, applyBound, planWall, planBound time.Duration
	throttled                                  int64
	// planBoundAWS is the plan's bound at AWS's real (unscaled) quotas.
	planBoundAWS        time.Duration
	planCallsPerSandbox float64
}

func quotaRun(t testing.TB, prefix string, n int, speedup float64) quotaFigures {
	_, _, kumoURL := statetest.NewKumo(t)
	q := quota.Default().Scaled(speedup)
	p := faultproxy.NewAWS(kumoURL, faultproxy.Config{Quotas: &q})
	t.Cleanup(p.Close)
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("sb-%sx%d", prefix, i))
	}
	sim := githubsim.New()
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	w, err := demo.Write(sim, dir, demo.Options{Prefix: prefix, Sandboxes: ids})
	if err != nil {
		t.Fatal(err)
	}
	// The AWS client below is paced by q; km.yaml's scale paces km's own
	// token mints (github:mints) the same way.
	if err := appendText(w.ConfigPath, fmt.Sprintf("quotas:\n  scale: %g\n", speedup)); err != nil {
		t.Fatal(err)
	}
	a, rec := statetest.Client(t, p.URL, state.Options{Quotas: &q})
	var out bytes.Buffer
	env := planapply.Env{ConfigPath: w.ConfigPath, AWS: a, Stdout: &out, Stderr: &out,
		Getenv: func(k string) string {
			if k == "KM_REFRESHER_ZIP" {
				return writeZip(t, dir)
			}
			return ""
		}}
	ctx := context.Background()
	s, err := planapply.Open(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	before := p.Stats()
	start := time.Now()
	if err := s.PlanAndApply(ctx, planapply.ApplyOptions{AutoApprove: true, Parallelism: *quotaParallelism}); err != nil {
		t.Fatalf("apply of %d sandboxes at the quotas: %v", n, err) // a surfaced throttle fails here
	}
	var f quotaFigures
	f.applyWall = time.Since(start)
	mid := p.Stats()
	f.applyBound = q.Bound(diff(mid.Calls, before.Calls))
	f.throttled = mid.Throttled - before.Throttled

	rec.Reset()
	start = time.Now()
	pl, err := s.ComputePlan(ctx, "plan", planapply.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.planWall = time.Since(start)
	if pl.Plan.HasChanges() {
		t.Fatalf("plan after the apply: %d changes", len(pl.Plan.Changes))
	}
	f.planBound = q.Bound(diff(p.Stats().Calls, mid.Calls))
	f.planBoundAWS = quota.Default().Bound(diff(p.Stats().Calls, mid.Calls))
	f.planCallsPerSandbox = float64(rec.Count()) / float64(n)
	return f
}

func diff(after, before map[string]int64) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		out[k] = int(v - before[k])
	}
	return out
}

// km paces itself by the quota table: an apply through a proxy enforcing the
// same quotas never shows a throttle and cannot beat the quota bound.
func TestApplyAtQuota(t *testing.T) {
	f := quotaRun(t, "kmqta", 12, 10)
	t.Logf("12 sandboxes at AWS's quotas x10: apply %s (bound %s, %.2fx), %d throttled at the proxy; plan %s (bound %s), %.2f calls per sandbox",
		f.applyWall.Round(time.Millisecond), f.applyBound.Round(time.Millisecond), f.applyWall.Seconds()/f.applyBound.Seconds(), f.throttled,
		f.planWall.Round(time.Millisecond), f.planBound.Round(time.Millisecond), f.planCallsPerSandbox)
	if f.applyWall < f.applyBound {
		t.Errorf("apply took %s, less than the quotas allow (%s): the proxy does not enforce them", f.applyWall, f.applyBound)
	}
}

var (
	quotaSpeedup     = flag.Float64("quota.speedup", 100, "BenchmarkApply1000AtQuota: AWS's quotas sped up this many times")
	quotaParallelism = flag.Int("quota.parallelism", 32, "TestApplyAtQuota, BenchmarkApply1000AtQuota: km apply --parallelism")
)

// BenchmarkApply1000AtQuota: 1,000 new sandboxes through the quota proxy at
// AWS's default quotas sped up -quota.speedup times; reports wall time over the quota
// bound for the apply and the plan after it, and the plan's calls per sandbox.
// go test ./internal/planapply -run '^$' -bench Apply1000AtQuota -benchtime 1x
func BenchmarkApply1000AtQuota(b *testing.B) {
	for i := range b.N {
		f := quotaRun(b, fmt.Sprintf("kmq%d", i), 1000, *quotaSpeedup)
		b.ReportMetric(f.applyWall.Seconds()/f.applyBound.Seconds(), "apply-wall/bound")
		b.ReportMetric(f.applyWall.Seconds(), "apply-s")
		b.ReportMetric(float64(f.throttled), "throttled")
		b.ReportMetric(f.planWall.Seconds(), "plan-s")
		if f.planBound > 0 { // at a high speed-up the plan fits in the buckets' bursts
			b.ReportMetric(f.planWall.Seconds()/f.planBound.Seconds(), "plan-wall/bound")
		}
		b.ReportMetric(f.planCallsPerSandbox, "plan-calls/sandbox")
		b.ReportMetric(f.planBoundAWS.Seconds(), "plan-bound-at-AWS-quotas-s")
	}
}
