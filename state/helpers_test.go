package state_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// uniq is a name fragment unique to this test run: kumo's store is shared by
// every server in the process and never reset.
func uniq(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return strings.Trim(name, "-") + "-" + hex.EncodeToString(b)
}

// page is one canned answer of a strict paging fake.
type page struct {
	wantToken string // the marker/token the request must carry ("" for the first)
	out       any    // the SDK output to return
}

type stashKey struct{}

// strictPages answers operation op with pages, in order, at the Finalize step
// (after the request was serialized and signed; nothing is sent). Each request
// must carry the token the page expects; a request past the last page or with
// the wrong token fails the test. token extracts the token from the SDK input.
// The returned func reports how many pages were served.
func strictPages(t *testing.T, op string, token func(any) string, pages []page) (func(*middleware.Stack) error, func() int) {
	var mu sync.Mutex
	served := 0
	mw := func(stack *middleware.Stack) error {
		if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testStashInput",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(middleware.WithStackValue(ctx, stashKey{}, in.Parameters), in)
			}), middleware.After); err != nil {
			return err
		}
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("testStrictPages",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetOperationName(ctx) != op {
					return next.HandleFinalize(ctx, in)
				}
				mu.Lock()
				defer mu.Unlock()
				if served >= len(pages) {
					t.Errorf("%s: unexpected request %d after the last page", op, served+1)
					return middleware.FinalizeOutput{}, middleware.Metadata{}, io.EOF
				}
				p := pages[served]
				if got := token(middleware.GetStackValue(ctx, stashKey{})); got != p.wantToken {
					t.Errorf("%s page %d: request token %q, want %q", op, served+1, got, p.wantToken)
				}
				served++
				return middleware.FinalizeOutput{Result: p.out}, middleware.Metadata{}, nil
			}), middleware.After)
	}
	return mw, func() int { mu.Lock(); defer mu.Unlock(); return served }
}

// answerOp answers every call of op with out at the Finalize step and lets
// other operations through.
func answerOp(op string, out any) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("testAnswer"+op,
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetOperationName(ctx) != op {
					return next.HandleFinalize(ctx, in)
				}
				return middleware.FinalizeOutput{Result: out}, middleware.Metadata{}, nil
			}), middleware.After)
	}
}

// httpFunc is an aws.HTTPClient from a function.
type httpFunc func(*http.Request) (*http.Response, error)

func (f httpFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// jsonError is an AWS JSON-protocol error response.
func jsonError(status int, code, msg string) *http.Response {
	body := `{"__type":"` + code + `","message":"` + msg + `"}`
	return &http.Response{
		StatusCode: status,
		Header: http.Header{
			"Content-Type":     []string{"application/x-amz-json-1.1"},
			"X-Amzn-Errortype": []string{code},
		},
		Body:          io.NopCloser(bytes.NewBufferString(body)),
		ContentLength: int64(len(body)),
	}
}

// restJSONError is an AWS REST-JSON error response (lambda).
func restJSONError(status int, code, msg string) *http.Response {
	body := `{"Type":"User","message":"` + msg + `"}`
	return &http.Response{
		StatusCode: status,
		Header: http.Header{
			"Content-Type":     []string{"application/json"},
			"X-Amzn-Errortype": []string{code},
		},
		Body:          io.NopCloser(bytes.NewBufferString(body)),
		ContentLength: int64(len(body)),
	}
}
