package reconcile

import (
	"hash/fnv"
	"regexp"
	"strconv"
	"time"
)

// A fleet of sandboxes created by one apply would otherwise refresh in the
// same minute every cycle: N mints and 2N SSM writes at once. Each rate()
// schedule instead gets a start date on its own phase of the cycle,
// hash(sandbox id) mod cycle, so the fleet's refreshes spread evenly over the
// cycle. The phase is deterministic, so plans stay stable; the start date
// itself is the next instant on that phase when the schedule is written
// (EventBridge Scheduler refuses start dates in the past).

var rateExprRe = regexp.MustCompile(`^rate\(([0-9]+) (minute|minutes|hour|hours)\)$`)

// scheduleCycle is the period of a rate() expression; 0 for anything else.
func scheduleCycle(expr string) time.Duration {
	m := rateExprRe.FindStringSubmatch(expr)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return 0
	}
	if m[2][0] == 'h' {
		return time.Duration(n) * time.Hour
	}
	return time.Duration(n) * time.Minute
}

// SpreadOffset is the sandbox's phase in the cycle of expr, whole seconds;
// 0 when expr is not a rate() expression.
func SpreadOffset(sandbox, expr string) time.Duration {
	c := scheduleCycle(expr)
	if c == 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(sandbox))
	return time.Duration(h.Sum64()%uint64(c/time.Second)) * time.Second
}

// spreadAttr is the start_offset attribute of a desired schedule ("" for
// cron schedules).
func spreadAttr(sandbox, expr string) string {
	if scheduleCycle(expr) == 0 {
		return ""
	}
	return SpreadOffset(sandbox, expr).String()
}

// liveOffset is the phase of a live start date in the cycle of expr.
func liveOffset(start time.Time, expr string) string {
	c := scheduleCycle(expr)
	if c == 0 || start.IsZero() {
		return ""
	}
	secs := start.Unix() % int64(c/time.Second)
	return (time.Duration(secs) * time.Second).String()
}

// nextStart is the first instant on the sandbox's phase at least a minute
// after now.
func nextStart(now time.Time, sandbox, expr string) time.Time {
	c := int64(scheduleCycle(expr) / time.Second)
	if c == 0 {
		return time.Time{}
	}
	off := int64(SpreadOffset(sandbox, expr) / time.Second)
	from := now.Add(time.Minute).Unix()
	k := (from - off + c - 1) / c
	return time.Unix(off+k*c, 0).UTC()
}
