package lambda_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/lambdazip"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// deployment is the refresher function and its schedule group in kumo, as
// km apply creates them.
type deployment struct {
	aws    *state.AWS
	proxy  *refreshertest.Proxy
	fn     state.Function
	prefix string
}

// deploy creates the function with the environment km apply sets. kumo
// never runs the uploaded zip, so any zip will do.
func deploy(t testing.TB, f *fixture, proxy *refreshertest.Proxy, fnName string) *deployment {
	t.Helper()
	ctx := context.Background()
	zip, err := lambdazip.Zip([]byte("#!/bin/sh\nexit 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	n := names.New(f.prefix)
	fn, err := f.aws.CreateFunction(ctx, state.Function{
		Name: fnName, RoleARN: "arn:aws:iam::000000000000:role/" + n.RefresherRole(),
		Runtime: "provided.al2023", Handler: "bootstrap", Architecture: "arm64",
		MemoryMB: 128, TimeoutSeconds: 60, LogGroup: n.LogGroup(),
		Env: map[string]string{"KM_PREFIX": f.prefix, "KM_REGION": statetest.Region, "KM_GITHUB_API_URL": f.sim.URL},
	}, zip)
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{aws: f.aws, proxy: proxy, fn: fn, prefix: f.prefix}
}

// schedule creates the sandbox's refresh schedule as km apply does (unless
// it exists) and reads it back.
func (d *deployment) schedule(t testing.TB, sb sandbox, input json.RawMessage) state.Schedule {
	t.Helper()
	ctx := context.Background()
	n := names.New(d.prefix)
	group, name := n.ScheduleGroup(), n.Schedule(sb.id)
	if _, err := d.aws.GetScheduleGroup(ctx, group); err != nil {
		if _, err := d.aws.CreateScheduleGroup(ctx, group, nil); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := d.aws.GetSchedule(ctx, group, name); err == nil {
		return s
	}
	_, err := d.aws.CreateSchedule(ctx, state.Schedule{
		Name: name, Group: group, Expression: "rate(45 minutes)", State: "ENABLED",
		TargetARN: d.fn.ARN, RoleARN: "arn:aws:iam::000000000000:role/" + n.SchedulerRole(),
		Input: string(input), RetryMaxAttempts: 3, MaxEventAgeSeconds: 600,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.aws.GetSchedule(ctx, group, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proc is a running refresher process.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	out   lineBuffer // everything it printed (stdout and stderr)
	done  chan struct{}
	once  sync.Once
}

// stop kills the process and waits for it; the test's cleanup calls it too.
func (p *proc) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		_ = p.cmd.Wait()
	})
}

// start runs the refresher binary the way Lambda would: with the function's
// environment as GetFunction reports it (kumo does not pass it on), the
// Runtime API address, and credentials; AWS calls go through the proxy.
func (d *deployment) start(t testing.TB) *proc {
	t.Helper()
	live, err := d.aws.GetFunction(context.Background(), d.fn.Name)
	if err != nil {
		t.Fatal(err)
	}
	env := refreshertest.Env(d.proxy.RuntimeAPI(d.fn.Name), d.fn.Name, d.proxy.URL, t.TempDir(), live.Env)
	cmd := exec.Command(refresher.Path(t))
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	cmd.Stderr = &p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default: // nobody reads this process's events (benchmarks)
			}
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// fire does what EventBridge Scheduler does: invoke the schedule's target
// with the schedule's input. It waits until the runtime has polled once.
func (d *deployment) fire(t testing.TB, p *proc, s state.Schedule) (out []byte, fnErr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	select {
	case <-d.proxy.Polled(d.fn.Name):
	case <-ctx.Done():
		t.Fatalf("the refresher never polled the Runtime API; its output:\n%s", p.out.String())
	}
	for {
		out, fnErr, err := d.aws.Invoke(ctx, s.TargetARN, []byte(s.Input))
		// The first poll can reach kumo just after the proxy saw it.
		if err != nil && strings.Contains(err.Error(), "no runtime handler") && ctx.Err() == nil {
			continue
		}
		if err != nil {
			t.Fatalf("Invoke %s: %v; refresher output:\n%s", s.TargetARN, err, p.out.String())
		}
		return out, fnErr
	}
}

// event waits for the refresher's next log event about sandbox.
func (p *proc) event(t testing.TB, sandboxID string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line := <-p.lines:
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["sandbox_id"] == sandboxID {
				return m
			}
		case <-timeout:
			t.Fatalf("no log event for %s; output:\n%s", sandboxID, p.out.String())
		}
	}
}

// ownerOf is the payload's first owner.
func ownerOf(sb sandbox) sandboxtoken.Owner { return sb.payload.Owners[0] }
