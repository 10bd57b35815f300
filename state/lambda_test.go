package state_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

func codeSHA(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestFunctionRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	name := uniq(t)
	f := state.Function{
		Name:           name,
		RoleARN:        "arn:aws:iam::000000000000:role/km-github-token-refresher",
		Architecture:   "arm64",
		MemoryMB:       128,
		TimeoutSeconds: 60,
		Env:            map[string]string{"KM_PREFIX": "km"},
		LogGroup:       "/aws/lambda/" + name,
	}
	zip1 := []byte("zip one")

	if _, err := a.GetFunction(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("GetFunction missing: %v, want ErrNotFound", err)
	}
	got, err := a.CreateFunction(ctx, f, zip1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.Runtime != "provided.al2023" || got.Handler != "bootstrap" || got.Architecture != "arm64" ||
		got.MemoryMB != 128 || got.TimeoutSeconds != 60 || got.Env["KM_PREFIX"] != "km" || got.CodeSHA256 != codeSHA(zip1) || got.ARN == "" {
		t.Errorf("CreateFunction = %+v", got)
	}
	in := rec.Operation("CreateFunction")[0].Input.(*lambda.CreateFunctionInput)
	if in.PackageType != "Zip" || in.LoggingConfig == nil || *in.LoggingConfig.LogGroup != f.LogGroup || in.Architectures[0] != "arm64" {
		t.Errorf("CreateFunction input: PackageType %v LoggingConfig %+v Architectures %v", in.PackageType, in.LoggingConfig, in.Architectures)
	}
	if len(rec.Operation("GetFunction")) == 0 {
		t.Error("CreateFunction did not wait for State Active (no GetFunction)")
	}
	if _, err := a.CreateFunction(ctx, f, zip1); !errors.Is(err, state.ErrAlreadyExists) {
		t.Errorf("CreateFunction twice: %v, want ErrAlreadyExists", err)
	}

	zip2 := []byte("zip two")
	got, err = a.UpdateFunctionCode(ctx, name, zip2, "", got.RevisionID)
	if err != nil || got.CodeSHA256 != codeSHA(zip2) {
		t.Errorf("UpdateFunctionCode = %+v, %v", got, err)
	}
	f.MemoryMB, f.Env = 256, map[string]string{"B": "2"}
	got, err = a.UpdateFunctionConfiguration(ctx, f, "")
	if err != nil || got.MemoryMB != 256 || !maps.Equal(got.Env, f.Env) {
		t.Errorf("UpdateFunctionConfiguration = %+v, %v", got, err)
	}
	read, err := a.GetFunction(ctx, name)
	if err != nil || read.MemoryMB != 256 || read.CodeSHA256 != codeSHA(zip2) {
		t.Errorf("GetFunction = %+v, %v", read, err)
	}

	if err := a.DeleteFunction(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteFunction(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DeleteFunction twice: %v, want ErrNotFound", err)
	}
	if _, err := a.UpdateFunctionCode(ctx, name, zip2, "", ""); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("UpdateFunctionCode of a deleted function: %v, want ErrNotFound", err)
	}
}

// serveOnce plays a Lambda runtime for fn on kumo's Runtime API: it answers
// one invocation with answer (or reports it as an error).
func serveOnce(t *testing.T, endpoint, fn string, answer func([]byte) []byte, fail bool) <-chan []byte {
	t.Helper()
	base := endpoint + "/_runtime/" + fn + "/2018-06-01/runtime/invocation/"
	// Posting any result registers fn's runtime with kumo synchronously, so
	// the Invoke below waits for our poll instead of failing "no handler".
	resp, err := http.Post(base+"register/response", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := make(chan []byte, 1)
	go func() {
		defer close(got)
		resp, err := http.Get(base + "next")
		if err != nil {
			t.Error(err)
			return
		}
		payload, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- payload
		result := "response"
		if fail {
			result = "error"
		}
		r, err := http.Post(base+resp.Header.Get("Lambda-Runtime-Aws-Request-Id")+"/"+result, "application/json", bytes.NewReader(answer(payload)))
		if err != nil {
			t.Error(err)
			return
		}
		r.Body.Close()
	}()
	return got
}

func TestInvoke(t *testing.T) {
	ctx := context.Background()
	a, _, endpoint := statetest.NewKumo(t)
	for _, tt := range []struct {
		name      string
		fail      bool
		wantError string
	}{
		{"ok", false, ""},
		{"function error", true, "Unhandled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := uniq(t)
			if _, err := a.CreateFunction(ctx, state.Function{Name: name, RoleARN: "arn:aws:iam::000000000000:role/r"}, []byte("zip")); err != nil {
				t.Fatal(err)
			}
			got := serveOnce(t, endpoint, name, func(in []byte) []byte { return append([]byte(`{"echo":`), append(in, '}')...) }, tt.fail)
			out, fnErr, err := a.Invoke(ctx, name, []byte(`{"sandbox_id":"sb-1"}`))
			if err != nil {
				t.Fatal(err)
			}
			if p := <-got; string(p) != `{"sandbox_id":"sb-1"}` {
				t.Errorf("the runtime received %q", p)
			}
			if string(out) != `{"echo":{"sandbox_id":"sb-1"}}` || fnErr != tt.wantError {
				t.Errorf("Invoke = %s, %q; want the echo and %q", out, fnErr, tt.wantError)
			}
		})
	}
}

func TestCreateFunctionRetriesWhileTheRoleIsNotAssumable(t *testing.T) {
	ctx := context.Background()
	_, _, endpoint := statetest.NewKumo(t)
	tests := []struct {
		name         string
		msg          string
		failures     int32
		wantErr      bool
		wantAttempts int32
	}{
		{"IAM propagation", "The role defined for the function cannot be assumed by Lambda.", 3, false, 4},
		{"other invalid parameter", "Unsupported runtime", 1, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts, failures atomic.Int32
			// Lambda answers the first creates as while IAM propagates the role.
			client := httpFunc(func(r *http.Request) (*http.Response, error) {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/2015-03-31/functions") {
					attempts.Add(1)
					if failures.Add(1) <= tt.failures {
						return restJSONError(400, "InvalidParameterValueException", tt.msg), nil
					}
				}
				return http.DefaultClient.Do(r)
			})
			a, rec := statetest.Client(t, endpoint, state.Options{HTTPClient: client})
			_, err := a.CreateFunction(ctx, state.Function{Name: uniq(t), RoleARN: "arn:aws:iam::000000000000:role/new"}, []byte("zip"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("CreateFunction: %v, want error %v", err, tt.wantErr)
			}
			if attempts.Load() != tt.wantAttempts || len(rec.Operation("CreateFunction")) != 1 {
				t.Errorf("%d HTTP attempts in %d calls, want %d in 1", attempts.Load(), len(rec.Operation("CreateFunction")), tt.wantAttempts)
			}
		})
	}
}
