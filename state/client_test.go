package state_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

// hermeticAWSEnv points the standard chain at nothing but the variables the
// test sets.
func hermeticAWSEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens here
}

func TestNewFollowsTheStandardChain(t *testing.T) {
	_, _, endpoint := statetest.NewKumo(t)
	tests := []struct {
		name       string
		env        map[string]string
		region     string
		wantRegion string
	}{
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": endpoint}, "", "eu-west-1"},
		{"AWS_ENDPOINT_URL_SSM", map[string]string{"AWS_ENDPOINT_URL_SSM": endpoint}, "", "eu-west-1"},
		{"region override", map[string]string{"AWS_ENDPOINT_URL": endpoint}, "us-west-2", "us-west-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hermeticAWSEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			rec := &state.Recorder{}
			a, err := state.New(context.Background(), state.Options{
				Region:      tt.region,
				APIOptions:  []func(*middleware.Stack) error{rec.Middleware()},
				MaxAttempts: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.Region() != tt.wantRegion {
				t.Errorf("Region() = %q, want %q", a.Region(), tt.wantRegion)
			}
			name := "/" + uniq(t)
			if _, err := a.PutParameter(context.Background(), state.PutParameterInput{Name: name, Type: "String", Value: "v"}); err != nil {
				t.Fatalf("PutParameter through the standard chain: %v", err)
			}
			if rec.Count() != 1 {
				t.Errorf("recorded %d calls, want 1", rec.Count())
			}
		})
	}
}

func TestRetryAttempts(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		want        int32
	}{
		{"SDK default", 0, 3},
		{"MaxAttempts", 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			unavailable := httpFunc(func(r *http.Request) (*http.Response, error) {
				attempts.Add(1)
				return jsonError(503, "ServiceUnavailable", "try again"), nil
			})
			a, rec := statetest.Client(t, "http://127.0.0.1:1", state.Options{HTTPClient: unavailable, MaxAttempts: tt.maxAttempts})
			if _, err := a.GetParameter(context.Background(), "/x", false); err == nil {
				t.Fatal("GetParameter succeeded against an unavailable endpoint")
			}
			if attempts.Load() != tt.want || rec.Count() != 1 {
				t.Errorf("%d attempts in %d calls, want %d in 1", attempts.Load(), rec.Count(), tt.want)
			}
		})
	}
}

func TestRecorder(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	root := "/" + uniq(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := root + "/" + string(rune('a'+i))
			if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "String", Value: "v"}); err != nil {
				t.Error(err)
			}
			if _, err := a.GetParameter(ctx, name, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if rec.Count() != 16 || rec.CountWrites() != 8 || len(rec.Operation("GetParameter")) != 8 {
		t.Errorf("Count %d CountWrites %d GetParameter %d; want 16, 8, 8", rec.Count(), rec.CountWrites(), len(rec.Operation("GetParameter")))
	}
	for _, c := range rec.Calls() {
		if c.Service != "SSM" || c.Input == nil || c.Err != nil {
			t.Errorf("call %+v", c)
		}
	}
	if _, err := a.GetParameter(ctx, root+"/missing", false); err == nil {
		t.Fatal("GetParameter of a missing name succeeded")
	}
	if calls := rec.Calls(); calls[len(calls)-1].Err == nil {
		t.Error("the failed call has no Err")
	}
	rec.Reset()
	if rec.Count() != 0 || len(rec.Calls()) != 0 {
		t.Errorf("after Reset: %d calls", rec.Count())
	}

	writes := map[string]bool{
		"PutParameter": true, "CreateKey": true, "UpdateAlias": true, "DeleteRole": true, "ScheduleKeyDeletion": true,
		"CancelKeyDeletion": true, "AddTagsToResource": true, "RemoveTagsFromResource": true, "TagResource": true,
		"UntagResource": true, "EnableKey": true, "DisableKey": true, "Invoke": true,
		"GetParameter": false, "DescribeKey": false, "ListAliases": false, "FilterLogEvents": false,
	}
	for op, want := range writes {
		if got := (state.Call{Operation: op}).IsWrite(); got != want {
			t.Errorf("IsWrite(%s) = %v, want %v", op, got, want)
		}
	}
}
