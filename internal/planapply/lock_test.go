package planapply_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// hook runs fn around every SDK call of one client, after the call returns.
func hook(fn func(ctx context.Context, op string, in any, err error)) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("kmTestHook",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				if op == "CreateKey" {
					fn(ctx, op, in.Parameters, nil) // before: the gate
				}
				out, md, err := next.HandleInitialize(ctx, in)
				if op != "CreateKey" {
					fn(ctx, op, in.Parameters, err)
				}
				return out, md, err
			}), middleware.After)
	}
}

// gate holds the first apply that reaches CreateKey (it holds the lock then)
// until the test opens it.
type gate struct {
	once   sync.Once
	inside chan struct{}
	open   chan struct{}
}

func newGate() *gate { return &gate{inside: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) enter(ctx context.Context) {
	g.once.Do(func() { close(g.inside) })
	select {
	case <-g.open:
	case <-ctx.Done():
	}
}

// Two applies started together: exactly one proceeds, the other fails fast
// naming the holder (operation, who, pid, age); a plan meanwhile fails the
// same way or, with --lock=false, reads without the lock; an apply with
// --lock-timeout waits and then finds nothing left to do. No key is created
// twice.
func TestConcurrentApplies(t *testing.T) {
	ids := []string{"sb-conc1", "sb-conc2", "sb-conc3"}
	f := newFixture(t, "kmconc", ids)
	ids = f.IDs(ids)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	g := newGate()
	sawHeld := make(chan struct{})
	var sawOnce sync.Once
	lockParam := names.New(f.Prefix).LockParam()

	client := func(waiter bool) *state.AWS {
		a, _ := statetest.Client(t, f.KumoURL, state.Options{APIOptions: []func(*middleware.Stack) error{
			hook(func(ctx context.Context, op string, in any, err error) {
				var apiErr smithy.APIError
				switch {
				case op == "CreateKey":
					g.enter(ctx)
				case waiter && op == "PutParameter" && errors.As(err, &apiErr) && apiErr.ErrorCode() == "ParameterAlreadyExists":
					if p, ok := in.(*ssm.PutParameterInput); ok && *p.Name == lockParam {
						sawOnce.Do(func() { close(sawHeld) })
					}
				}
			}),
		}})
		return a
	}
	type result struct {
		err error
		out string
	}
	run := func(a *state.AWS, o planapply.ApplyOptions) result {
		var out bytes.Buffer
		e := f.Env()
		e.AWS, e.Stdout, e.Stderr = a, &out, &out
		s, err := planapply.Open(ctx, e)
		if err == nil {
			err = s.PlanAndApply(ctx, o)
		}
		return result{err, out.String()}
	}

	start := make(chan struct{})
	results := make(chan result, 2)
	for range 2 {
		a := client(false)
		go func() {
			<-start
			results <- run(a, planapply.ApplyOptions{AutoApprove: true})
		}()
	}
	close(start)
	// One apply holds the lock at CreateKey; the other must have failed fast.
	var loser result
	select {
	case loser = <-results:
	case <-ctx.Done():
		t.Fatal("neither apply failed fast: both hold the lock, or neither got it")
	}
	select {
	case <-g.inside:
	case <-ctx.Done():
		t.Fatal("no apply reached CreateKey")
	}
	var held *state.LockHeldError
	if !errors.As(loser.err, &held) {
		t.Fatalf("the second apply: %v\n%s", loser.err, loser.out)
	}
	msg := loser.err.Error()
	for _, want := range []string{"the state is locked", "Operation: apply", fmt.Sprintf("(pid %d)", os.Getpid()), " ago)", "km force-unlock " + held.Holder.ID} {
		if !strings.Contains(msg, want) {
			t.Errorf("lock error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(loser.out, "Creating...") {
		t.Errorf("the apply that lost the lock changed something:\n%s", loser.out)
	}

	// A plan during the apply fails fast with the same message...
	ps := f.Session()
	if _, err := ps.ComputePlan(ctx, "plan", planapply.PlanOptions{}); !errors.As(err, &held) || !strings.Contains(err.Error(), "Operation: apply") {
		t.Fatalf("plan during apply: %v", err)
	}
	// ...or reads without the lock when asked.
	pl, err := ps.ComputePlan(ctx, "plan", planapply.PlanOptions{NoLock: true})
	if err != nil || !pl.Plan.HasChanges() {
		t.Fatalf("plan --lock=false during apply: %v", err)
	}

	// A third apply waits for the lock; once it has seen it held, the winner
	// goes on.
	waited := make(chan result, 1)
	wa := client(true)
	go func() {
		waited <- run(wa, planapply.ApplyOptions{AutoApprove: true, PlanOptions: planapply.PlanOptions{LockTimeout: time.Minute}})
	}()
	select {
	case <-sawHeld:
	case <-ctx.Done():
		t.Fatal("the waiting apply never saw the lock held")
	}
	close(g.open)
	winner := <-results
	if winner.err != nil {
		t.Fatalf("the apply holding the lock: %v\n%s", winner.err, winner.out)
	}
	w := <-waited
	if w.err != nil || !strings.Contains(w.out, "No changes") {
		t.Fatalf("the waiting apply: %v\n%s", w.err, w.out)
	}
	// One key per sandbox, no duplicate from the applies that lost.
	keys, err := f.AWS.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, k := range keys {
		tags, err := f.AWS.ListResourceTags(ctx, k)
		if err == nil && tags[names.TagPrefix] == f.Prefix {
			per[tags[names.TagSandbox]]++
		}
	}
	for _, id := range ids {
		if per[id] != 1 {
			t.Errorf("%s has %d keys, want 1 (%v)", id, per[id], per)
		}
	}
}

// A lock left by a process that died (kill -9) names its holder, its age and
// that it is gone, in the error and in km force-unlock's prompt; force-unlock
// asks before it removes the lock.
func TestDeadHolderLock(t *testing.T) {
	f := newFixture(t, "kmdead", nil)
	ctx := context.Background()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	info := state.LockInfo{ID: "dead-holder-1", Operation: "apply", Who: "ci@" + host, PID: dead.Process.Pid, Created: time.Now().Add(-90 * time.Minute)}
	if _, err := f.AWS.AcquireLock(ctx, names.New(f.Prefix).LockParam(), info, 0); err != nil {
		t.Fatal(err)
	}
	err := f.Session().PlanAndApply(ctx, planapply.ApplyOptions{AutoApprove: true})
	gone := fmt.Sprintf("process %d on %s, which took it, no longer runs", dead.Process.Pid, host)
	for _, want := range []string{"dead-holder-1", fmt.Sprintf("ci@%s (pid %d)", host, dead.Process.Pid), "(1h30m0s ago)", "The holder is gone: " + gone} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("apply under a dead holder's lock: error lacks %q:\n%v", want, err)
		}
	}
	for _, tc := range []struct {
		answer string
		force  bool
		freed  bool
	}{{"no\n", false, false}, {"", false, false}, {"yes\n", false, true}} {
		var out bytes.Buffer
		e := f.Env()
		e.Stdout, e.Stdin = &out, strings.NewReader(tc.answer)
		s, err := planapply.Open(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		err = s.ForceUnlock(ctx, "dead-holder-1", tc.force)
		for _, want := range []string{"Operation: apply", "(1h30m", "The holder is gone: " + gone, "Do you really want to force-unlock?"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("answer %q: force-unlock prompt lacks %q:\n%s", tc.answer, want, out.String())
			}
		}
		_, rerr := f.AWS.ReadLock(ctx, names.New(f.Prefix).LockParam())
		if freed := errors.Is(rerr, state.ErrNotFound); freed != tc.freed || (err == nil) != tc.freed {
			t.Fatalf("answer %q: force-unlock err %v, lock freed %v", tc.answer, err, freed)
		}
	}
}
