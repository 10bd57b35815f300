package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/klankermaker/km/internal/faultproxy"
	"github.com/klankermaker/km/internal/quota"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// Each service's throttling answer is what the SDK sees from real AWS: the
// service's own error code in its own protocol, classified as a throttle by
// the SDK's standard retryer.
func TestThrottleInEachProtocol(t *testing.T) {
	_, _, kumoURL := statetest.NewKumo(t)
	tests := []struct {
		bucket, code string
		call         func(ctx context.Context, a *state.AWS) error
	}{
		{"kms:ListAliases", "ThrottlingException", func(ctx context.Context, a *state.AWS) error {
			_, err := a.ListAliases(ctx, "alias/fp")
			return err
		}},
		{"ssm:reads", "ThrottlingException", func(ctx context.Context, a *state.AWS) error {
			_, err := a.GetParameter(ctx, "/fp/none", false)
			return err
		}},
		{"logs:CreateLogGroup", "ThrottlingException", func(ctx context.Context, a *state.AWS) error {
			return a.CreateLogGroup(ctx, "/fp/"+t.Name(), nil)
		}},
		{"scheduler:schedules", "ThrottlingException", func(ctx context.Context, a *state.AWS) error {
			_, err := a.GetSchedule(ctx, "default", "fp-none")
			return err
		}},
		{"lambda:control", "TooManyRequestsException", func(ctx context.Context, a *state.AWS) error {
			_, err := a.GetFunction(ctx, "fp-none")
			return err
		}},
		{"iam:control", "Throttling", func(ctx context.Context, a *state.AWS) error {
			_, err := a.GetRole(ctx, "fp-none")
			return err
		}},
		{"sts:GetCallerIdentity", "Throttling", func(ctx context.Context, a *state.AWS) error {
			_, err := a.CallerIdentity(ctx)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.bucket, func(t *testing.T) {
			q, err := quota.Default().With(map[string]float64{tc.bucket: 0.001}) // burst 1, then nothing
			if err != nil {
				t.Fatal(err)
			}
			p := faultproxy.NewAWS(kumoURL, faultproxy.Config{Quotas: &q})
			defer p.Close()
			a, _ := statetest.Client(t, p.URL, state.Options{NoPacing: true, MaxAttempts: 1})
			ctx := context.Background()
			_ = tc.call(ctx, a) // takes the one token
			err = tc.call(ctx, a)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("second call: %v, want API error %s", err, tc.code)
			}
			if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
				t.Fatalf("the SDK does not see %s as a throttle: %v", tc.code, err)
			}
			if st := p.Stats(); st.Throttled < 1 {
				t.Fatalf("stats: %+v", st)
			}
		})
	}
}

// With pacing on, a client under the proxy's quota surfaces no throttle:
// the proxy's bucket and the client's start at different instants, so a rare
// request may still be throttled and is retried unseen.
func TestPacedClientIsNotThrottled(t *testing.T) {
	_, _, kumoURL := statetest.NewKumo(t)
	q := quota.Default().Scaled(20) // SSM writes 60/s
	p := faultproxy.NewAWS(kumoURL, faultproxy.Config{Quotas: &q})
	defer p.Close()
	a, _ := statetest.Client(t, p.URL, state.Options{Quotas: &q})
	ctx := context.Background()
	run := runTag() // kumo's store outlives a run (go test -count=2)
	const n = 150
	start := time.Now()
	for i := range n {
		if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: fmt.Sprintf("/fp/paced/%s/%d", run, i), Type: "String", Value: "v"}); err != nil {
			t.Fatalf("PutParameter %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	bound := q.Bound(map[string]int{"ssm:PutParameter": n})
	st := p.Stats()
	if st.Throttled > n/100 {
		t.Fatalf("%d of %d requests throttled: %+v", st.Throttled, st.Requests, st)
	}
	if elapsed < bound {
		t.Fatalf("%d writes took %s, faster than the quota allows (%s)", n, elapsed, bound)
	}
	t.Logf("%d paced SSM writes: %s against a quota bound of %s (%.2fx), %d throttled at the proxy", n, elapsed.Round(time.Millisecond), bound, elapsed.Seconds()/bound.Seconds(), st.Throttled)
}

// Faults come at their seeded shares; a reset after the backend leaves the
// write done while the client saw an error.
func TestFaultShares(t *testing.T) {
	_, _, kumoURL := statetest.NewKumo(t)
	p := faultproxy.NewAWS(kumoURL, faultproxy.Config{Seed: 1, Faults: faultproxy.Faults{ServerError: 0.1, ResetBefore: 0.1, ResetAfter: 0.1}})
	defer p.Close()
	a, _ := statetest.Client(t, p.URL, state.Options{MaxAttempts: 1})
	ctx := context.Background()
	failed, written := 0, 0
	run := runTag()
	for i := range 400 {
		name := fmt.Sprintf("/fp/shares/%s/%d", run, i)
		if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "String", Value: "v"}); err != nil {
			failed++
		}
	}
	st := p.Stats()
	for name, n := range map[string]int64{"server errors": st.ServerErrors, "resets before": st.ResetsBefore, "resets after": st.ResetsAfter} {
		if n < 20 || n > 60 {
			t.Errorf("%s: %d of %d, want about 10%%", name, n, st.Requests)
		}
	}
	if int64(failed) != st.ServerErrors+st.ResetsBefore+st.ResetsAfter {
		t.Errorf("client saw %d failures, proxy injected %d", failed, st.ServerErrors+st.ResetsBefore+st.ResetsAfter)
	}
	// Written: what the client saw succeed plus the lost answers.
	direct, _ := statetest.Client(t, kumoURL, state.Options{})
	for i := range 400 {
		if _, err := direct.GetParameter(ctx, fmt.Sprintf("/fp/shares/%s/%d", run, i), false); err == nil {
			written++
		}
	}
	if want := 400 - int(st.ServerErrors+st.ResetsBefore); written != want {
		t.Errorf("%d parameters written, want %d (every request but the server errors and the resets before)", written, want)
	}
}

// GitHub: 502/503 and secondary limits carry what the client needs to retry;
// mints beyond the budget are refused with a rate-limit 403.
func TestGitHubFaults(t *testing.T) {
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	up := newServer(t, backend)
	q, _ := quota.Default().With(map[string]float64{"github:mints": 0.001})
	p := faultproxy.NewGitHub(up, faultproxy.Config{Seed: 3, Quotas: &q, Faults: faultproxy.Faults{ServerError: 0.2, SecondaryLimit: 0.2}})
	defer p.Close()
	codes := map[int]int{}
	for range 200 {
		resp, err := http.Get(p.URL + "/repos/o/r")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 403 || resp.StatusCode == 429 {
			if resp.Header.Get("Retry-After") == "" {
				t.Fatalf("secondary limit %d without Retry-After", resp.StatusCode)
			}
		}
		codes[resp.StatusCode]++
		resp.Body.Close()
	}
	if codes[502]+codes[503] < 20 || codes[403]+codes[429] < 20 || codes[201] < 80 {
		t.Fatalf("status codes: %v", codes)
	}
	p2 := faultproxy.NewGitHub(up, faultproxy.Config{Quotas: &q})
	defer p2.Close()
	var mints []int
	for range 3 {
		resp, err := http.Post(p2.URL+"/app/installations/7/access_tokens", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		mints = append(mints, resp.StatusCode)
		if resp.StatusCode == 403 && resp.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Fatal("mint budget refusal without X-RateLimit-Remaining: 0")
		}
		resp.Body.Close()
	}
	if mints[0] != 201 || mints[1] != 403 || mints[2] != 403 {
		t.Fatalf("mints past a budget of 1: %v", mints)
	}
}

// runTag names one run's parameters: kumo keeps one store per process.
func runTag() string { return fmt.Sprintf("%08x", rand.Uint32()) }
