package reconcile

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/quota"
	"github.com/klankermaker/km/state"
)

func TestSpreadIsDeterministicAndPlanStable(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 7, 0, time.UTC)
	tests := []struct {
		expr  string
		cycle time.Duration
	}{
		{"rate(45 minutes)", 45 * time.Minute},
		{"rate(1 hour)", time.Hour},
		{"rate(2 hours)", 2 * time.Hour},
		{"cron(0/30 * * * ? *)", 0},
	}
	for _, tc := range tests {
		for i := range 200 {
			id := fmt.Sprintf("sb-%04d", i)
			off := SpreadOffset(id, tc.expr)
			if off != SpreadOffset(id, tc.expr) || off < 0 || (tc.cycle > 0 && off >= tc.cycle) || (tc.cycle == 0 && off != 0) {
				t.Fatalf("%s %s: offset %s", tc.expr, id, off)
			}
			start := nextStart(now, id, tc.expr)
			if tc.cycle == 0 {
				if !start.IsZero() || spreadAttr(id, tc.expr) != "" {
					t.Fatalf("%s: a start date for a cron schedule", tc.expr)
				}
				continue
			}
			if start.Before(now.Add(time.Minute)) || start.After(now.Add(time.Minute+tc.cycle)) {
				t.Fatalf("%s %s: start %s not within one cycle after now+1m", tc.expr, id, start)
			}
			// What a later plan reads back from the start date is what it wants.
			if got, want := liveOffset(start, tc.expr), spreadAttr(id, tc.expr); got != want {
				t.Fatalf("%s %s: live offset %s, desired %s: the plan would never settle", tc.expr, id, got, want)
			}
			if got := liveOffset(nextStart(now.Add(17*time.Hour), id, tc.expr), tc.expr); got != spreadAttr(id, tc.expr) {
				t.Fatalf("%s %s: rewriting later moves the phase to %s", tc.expr, id, got)
			}
		}
	}
}

// refreshModel simulates one refresh cycle of a fleet: each sandbox's schedule
// fires in the minute of its phase (EventBridge Scheduler's 60-second
// precision: a uniformly random second within it), minting one token per owner
// and writing one SSM parameter per owner. Mints and writes beyond the
// per-second budgets wait (the refresher is retried) in arrival order.
type modelResult struct {
	peakMints, peakWrites  int // requested in the busiest second
	delayed                float64
	maxDelay               time.Duration
	servedMints, servedMax int
}

func refreshModel(n, owners int, cycle time.Duration, spread bool, mintsPerSec, writesPerSec float64, seed uint64) modelResult {
	rng := rand.New(rand.NewPCG(seed, 1))
	secs := int(cycle / time.Second)
	arrivals := make([]int, secs) // refreshes per second
	for i := range n {
		minute := 0 // created by one apply: the same minute, unspread
		if spread {
			minute = int(SpreadOffset(fmt.Sprintf("sb-%06d", i), "rate(45 minutes)")/time.Minute) % (secs / 60)
		}
		arrivals[minute*60+rng.IntN(60)]++
	}
	var r modelResult
	queue := []int{} // arrival second of each waiting refresh
	mintTokens, writeTokens := 0.0, 0.0
	delayed := 0
	for s := 0; s < secs || len(queue) > 0; s++ {
		if s < secs {
			r.peakMints = max(r.peakMints, arrivals[s]*owners)
			r.peakWrites = max(r.peakWrites, arrivals[s]*owners)
			for range arrivals[s] {
				queue = append(queue, s)
			}
		}
		mintTokens = math.Min(mintTokens+mintsPerSec, math.Max(mintsPerSec, 1)*float64(owners))
		writeTokens = math.Min(writeTokens+writesPerSec, math.Max(writesPerSec, 1)*float64(owners))
		for len(queue) > 0 && mintTokens >= float64(owners) && writeTokens >= float64(owners) {
			mintTokens -= float64(owners)
			writeTokens -= float64(owners)
			if d := s - queue[0]; d > 0 {
				delayed++
				r.maxDelay = max(r.maxDelay, time.Duration(d)*time.Second)
			}
			queue = queue[1:]
		}
		if s > 100*secs {
			break
		}
	}
	r.delayed = float64(delayed) / float64(n)
	return r
}

// TestRefreshFleetModel: one 45-minute cycle at 10,000 sandboxes (two owners
// each, as the demo profile), against SSM's modelled 3 writes/s and the
// GitHub App's 5,000 mints/hour, with and without the spread, and the largest
// fleet each budget carries with no refresh delayed.
func TestRefreshFleetModel(t *testing.T) {
	q := quota.Default()
	writes, _ := q.Lookup("ssm:PutParameter")
	mints, _ := q.Lookup("github:CreateInstallationToken")
	cycle := 45 * time.Minute
	const n, owners = 10000, 2
	un := refreshModel(n, owners, cycle, false, mints.PerSecond, writes.PerSecond, 1)
	sp := refreshModel(n, owners, cycle, true, mints.PerSecond, writes.PerSecond, 1)
	t.Logf("10,000 sandboxes x %d owners, one %s cycle, budgets %.2f mints/s and %.0f SSM writes/s:", owners, cycle, mints.PerSecond, writes.PerSecond)
	t.Logf("  unspread: peak %d mints/s and %d writes/s; %.1f%% of refreshes delayed, the longest by %s", un.peakMints, un.peakWrites, 100*un.delayed, un.maxDelay)
	t.Logf("  spread:   peak %d mints/s and %d writes/s; %.1f%% of refreshes delayed, the longest by %s", sp.peakMints, sp.peakWrites, 100*sp.delayed, sp.maxDelay)
	if sp.peakMints*5 > un.peakMints {
		t.Errorf("the spread does not lower the peak: %d against %d mints/s", sp.peakMints, un.peakMints)
	}
	// The largest fleet whose spread refreshes stay within both budgets.
	capacity := func(writesPerSec, mintsPerSec float64) int {
		lo, hi := 1, 100000
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if r := refreshModel(mid, owners, cycle, true, mintsPerSec, writesPerSec, 1); r.maxDelay <= 15*time.Minute-10*time.Minute {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		return lo
	}
	t.Logf("  largest spread fleet with every refresh within 5 min of its slot: %d sandboxes (App budget %.0f/h); with SSM higher throughput and 4 Apps' budgets: %d",
		capacity(writes.PerSecond, mints.PerSecond), mints.PerSecond*3600, capacity(1000, 4*mints.PerSecond))
	// A fleet within the budgets: spread, no refresh waits; unspread, most do.
	un = refreshModel(1500, owners, cycle, false, mints.PerSecond, writes.PerSecond, 2)
	sp = refreshModel(1500, owners, cycle, true, mints.PerSecond, writes.PerSecond, 2)
	t.Logf("  1,500 sandboxes: unspread %.1f%% delayed (longest %s), spread %.1f%% delayed (longest %s), peak %d mints/s",
		100*un.delayed, un.maxDelay, 100*sp.delayed, sp.maxDelay, sp.peakMints)
	if sp.maxDelay > 5*time.Minute || un.delayed < 0.5 {
		t.Errorf("1,500 sandboxes: spread longest delay %s, unspread delayed share %.2f", sp.maxDelay, un.delayed)
	}
}

func TestScheduleDiffStartOffset(t *testing.T) {
	const id, expr = "sb-spread1", "rate(45 minutes)"
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	base := state.Schedule{Name: "km-github-token-" + id, Group: "g", Expression: expr, State: "ENABLED"}
	live := func(start time.Time) *Resource {
		s := base
		s.StartDate = start
		return liveSchedule(addrSchedule(id), id, s)
	}
	desired := func() *Resource {
		d := live(time.Time{})
		d.Attrs = maps.Clone(d.Attrs)
		d.Attrs["start_offset"] = spreadAttr(id, expr)
		return d
	}
	tests := []struct {
		name  string
		start time.Time
		want  Action
	}{
		{"on its phase", nextStart(now, id, expr), NoOp},
		{"on its phase, written a day later", nextStart(now.Add(24*time.Hour), id, expr), NoOp},
		{"off its phase", nextStart(now, id, expr).Add(7 * time.Minute), Update},
		{"no start date (older km, or kumo)", time.Time{}, NoOp},
	}
	for _, tc := range tests {
		if got, why := (scheduleKind{}).Diff(nil, desired(), live(tc.start)); got != tc.want {
			t.Errorf("%s: %s (%s), want %s", tc.name, got, why, tc.want)
		}
	}
}
