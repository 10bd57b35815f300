package planapply

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/klankermaker/km/reconcile"
)

// hint is what to do about one class of failure, recognised in the error text
// (the AWS error code, or what the GitHub client says).
type hint struct {
	match []string
	cause string
	fix   string
}

var hints = []hint{
	{[]string{"Throttling", "TooManyRequests", "Rate exceeded", "rate limit"}, "throttled",
		"AWS or GitHub limited the request rate even after retries: run km apply again; if it recurs, lower km's pace for that API in km.yaml quotas, or ask AWS for a quota increase (Service Quotas)"},
	{[]string{"AccessDenied", "UnauthorizedOperation", "not authorized"}, "access denied",
		"grant the IAM action named above to the identity running km (docs/iam/km-apply.json lists every action apply needs)"},
	{[]string{"connection reset", "EOF", "timeout", "i/o timeout", "connection refused", "no such host"}, "network",
		"the connection failed, possibly after AWS did the change: run km apply again, it recognises what was done and does not repeat it"},
	{[]string{"StatusCode: 5", "HTTP 5", "ServiceUnavailable", "InternalFailure", "InternalServerError", "ServiceException"}, "service error",
		"the service failed (5xx) after retries: run km apply again"},
	{[]string{"GitHub", "github"}, "GitHub",
		"GitHub refused or failed the request: check the message above (km doctor checks the App); then run km apply again"},
}

func classify(err error) hint {
	msg := err.Error()
	for _, h := range hints {
		for _, m := range h.match {
			if strings.Contains(msg, m) {
				return h
			}
		}
	}
	return hint{cause: "error", fix: "fix the cause named above, then run km apply again"}
}

// writeFailureSummary ends a failed apply: what was done, what failed and
// why, what was skipped because of it, and the fix for each kind of failure.
func writeFailureSummary(out io.Writer, res reconcile.ApplyResult, applyErr error) {
	fmt.Fprintf(out, "\nApply failed. Resources: %d added, %d changed, %d destroyed; %d failed", res.Added, res.Changed, res.Destroyed, len(res.Failed))
	if len(res.Skipped) > 0 {
		fmt.Fprintf(out, ", %d not attempted (they need a failed one)", len(res.Skipped))
	}
	fmt.Fprintln(out, ".")
	if len(res.Failed) == 0 {
		if applyErr != nil {
			fmt.Fprintf(out, "  %v\nFix: run km apply again to finish.\n", applyErr)
		}
		return
	}
	fmt.Fprintln(out, "\nFailed:")
	fixes := map[string]string{}
	for i, addr := range res.Failed {
		var err error = errors.New("unknown")
		if i < len(res.Errors) {
			err = res.Errors[i]
		}
		h := classify(err)
		fixes[h.cause] = h.fix
		fmt.Fprintf(out, "  - %s (%s): %s\n", addr, h.cause, firstLine(err.Error()))
	}
	causes := make([]string, 0, len(fixes))
	for c := range fixes {
		causes = append(causes, c)
	}
	sort.Strings(causes)
	fmt.Fprintln(out, "\nFix:")
	for _, c := range causes {
		fmt.Fprintf(out, "  - %s: %s.\n", c, fixes[c])
	}
	fmt.Fprintln(out, "Every change that completed is in place; km apply finishes the rest and repeats nothing.")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
