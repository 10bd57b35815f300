package state

import (
	"context"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Call is one SDK operation call seen by a Recorder.
type Call struct {
	Service   string // SDK service id: SSM, KMS, Scheduler, Lambda, IAM, CloudWatch Logs, STS
	Operation string // PutParameter, ListAliases, ...
	Input     any    // the SDK input value, e.g. *ssm.PutParameterInput
	Err       error  // the operation's error after retries, nil on success
}

// writePrefixes are the operation name prefixes CountWrites counts.
var writePrefixes = []string{
	"Put", "Create", "Update", "Delete", "Schedule", "Cancel", "Add", "Remove",
	"Tag", "Untag", "Enable", "Disable", "Invoke",
}

// IsWrite reports whether an operation name is a write (see CountWrites).
func (c Call) IsWrite() bool {
	for _, p := range writePrefixes {
		if strings.HasPrefix(c.Operation, p) {
			return true
		}
	}
	return false
}

// Recorder records every SDK operation call (one entry per call, retries not
// counted) for tests and benchmarks. Inputs are kept as they were sent, secret
// values included: never print them. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Middleware returns the smithy middleware to put in Options.APIOptions.
func (r *Recorder) Middleware() func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("kmCallRecorder",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				i := r.add(Call{
					Service:   awsmiddleware.GetServiceID(ctx),
					Operation: awsmiddleware.GetOperationName(ctx),
					Input:     in.Parameters,
				})
				out, md, err := next.HandleInitialize(ctx, in)
				r.setErr(i, err)
				return out, md, err
			}), middleware.After)
	}
}

func (r *Recorder) add(c Call) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return len(r.calls) - 1
}

func (r *Recorder) setErr(i int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < len(r.calls) {
		r.calls[i].Err = err
	}
}

// Calls returns a copy of the calls so far, in the order they started.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Operation returns the calls of one operation, e.g. "PutParameter".
func (r *Recorder) Operation(name string) []Call {
	var out []Call
	for _, c := range r.Calls() {
		if c.Operation == name {
			out = append(out, c)
		}
	}
	return out
}

// Count is the number of calls so far.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// CountWrites is the number of calls whose operation name starts with Put,
// Create, Update, Delete, Schedule, Cancel, Add, Remove, Tag, Untag, Enable,
// Disable or Invoke.
func (r *Recorder) CountWrites() int {
	n := 0
	for _, c := range r.Calls() {
		if c.IsWrite() {
			n++
		}
	}
	return n
}

// Reset forgets the calls recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}
