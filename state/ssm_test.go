package state_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

func TestParameterRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	root := "/" + uniq(t)
	name := root + "/config/app-client-id"

	v, err := a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "String", Value: "Iv1.abc", Description: "client id"})
	if err != nil || v != 1 {
		t.Fatalf("PutParameter = %d, %v; want version 1", v, err)
	}
	v, err = a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "String", Value: "Iv1.def", Overwrite: true})
	if err != nil || v != 2 {
		t.Fatalf("PutParameter overwrite = %d, %v; want version 2", v, err)
	}
	p, err := a.GetParameter(ctx, name, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != name || p.Value != "Iv1.def" || p.Type != "String" || p.Version != 2 || p.ARN == "" || p.LastModified.IsZero() {
		t.Errorf("GetParameter = %+v", p)
	}
	if err := a.DeleteParameter(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetParameter(ctx, name, true); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("GetParameter after delete: %v, want ErrNotFound", err)
	}
}

func TestParameterErrors(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/x"

	tests := []struct {
		name string
		call func() error
		want error
		code string
	}{
		{"get missing", func() error { _, err := a.GetParameter(ctx, name, false); return err }, state.ErrNotFound, "ParameterNotFound"},
		{"delete missing", func() error { return a.DeleteParameter(ctx, name) }, state.ErrNotFound, "ParameterNotFound"},
		{"create", func() error {
			_, err := a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "String", Value: "1"})
			return err
		}, nil, ""},
		{"create again", func() error {
			_, err := a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "String", Value: "2"})
			return err
		}, state.ErrAlreadyExists, "ParameterAlreadyExists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
				t.Errorf("the SDK error is not kept in the chain: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "ssm ") || !strings.Contains(err.Error(), name) {
				t.Errorf("error lacks context: %v", err)
			}
		})
	}
}

func TestDescribeParametersReadsAllPages(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	root := "/" + uniq(t)
	const n = 61
	for i := range n {
		if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: fmt.Sprintf("%s/p/%03d", root, i), Type: "String", Value: "v"}); err != nil {
			t.Fatal(err)
		}
	}
	// Outside the path (kumo ignores the Path filter: the client filters too).
	if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: root + "-sibling/x", Type: "String", Value: "v"}); err != nil {
		t.Fatal(err)
	}
	rec.Reset()

	ps, err := a.DescribeParameters(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != n {
		t.Fatalf("DescribeParameters returned %d parameters, want %d", len(ps), n)
	}
	for i, p := range ps {
		if want := fmt.Sprintf("%s/p/%03d", root, i); p.Name != want || p.Type != "String" || p.Version != 1 || p.Value != "" {
			t.Errorf("parameter %d = %+v, want name %s", i, p, want)
		}
	}
	calls := rec.Operation("DescribeParameters")
	if len(calls) < 2 {
		t.Fatalf("%d DescribeParameters calls, want at least 2 pages", len(calls))
	}
	for i, c := range calls {
		in := c.Input.(*ssm.DescribeParametersInput)
		if aws.ToInt32(in.MaxResults) != 50 {
			t.Errorf("call %d MaxResults = %v, want 50", i, in.MaxResults)
		}
		if len(in.ParameterFilters) != 1 || aws.ToString(in.ParameterFilters[0].Key) != "Path" ||
			aws.ToString(in.ParameterFilters[0].Option) != "Recursive" || in.ParameterFilters[0].Values[0] != root {
			t.Errorf("call %d filters = %+v, want Path Recursive %s", i, in.ParameterFilters, root)
		}
		if (i > 0) != (in.NextToken != nil) {
			t.Errorf("call %d NextToken = %v", i, in.NextToken)
		}
	}
}

func TestGetAndDeleteParametersBatchByTen(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	root := "/" + uniq(t)
	var names []string
	for i := range 25 {
		name := fmt.Sprintf("%s/%02d", root, i)
		names = append(names, name)
		if i%5 == 4 {
			continue // every fifth name does not exist
		}
		if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: name, Type: "SecureString", Value: "secret-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	rec.Reset()

	got, err := a.GetParameters(ctx, names, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 20 {
		t.Errorf("GetParameters returned %d, want 20", len(got))
	}
	for i, name := range names {
		p, ok := got[name]
		if i%5 == 4 {
			if ok {
				t.Errorf("%s does not exist but was returned", name)
			}
			continue
		}
		if !ok || p.Value != "secret-"+name {
			t.Errorf("%s = %+v, %v", name, p, ok)
		}
	}
	if err := a.DeleteParameters(ctx, names); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"GetParameters", "DeleteParameters"} {
		calls := rec.Operation(op)
		if len(calls) != 3 {
			t.Errorf("%d %s calls, want 3", len(calls), op)
		}
		for _, c := range calls {
			var n int
			switch in := c.Input.(type) {
			case *ssm.GetParametersInput:
				n = len(in.Names)
				if !aws.ToBool(in.WithDecryption) {
					t.Errorf("GetParameters without WithDecryption")
				}
			case *ssm.DeleteParametersInput:
				n = len(in.Names)
			}
			if n == 0 || n > 10 {
				t.Errorf("%s batch of %d names", op, n)
			}
		}
	}
	left, err := a.DescribeParameters(ctx, root)
	if err != nil || len(left) != 0 {
		t.Errorf("after DeleteParameters: %v, %v", left, err)
	}
}

func TestPutSecureStringSendsKeyIDAndTagsSeparately(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	name := "/" + uniq(t) + "/github-token"
	tags := map[string]string{"km:sandbox": "sb-1", "km:managed": "true"}

	for _, overwrite := range []bool{false, true} {
		rec.Reset()
		if _, err := a.PutParameter(ctx, state.PutParameterInput{
			Name: name, Type: "SecureString", Value: "ghs_secret", KeyID: "alias/km-github-token-sb-1",
			Overwrite: overwrite, Tags: tags,
		}); err != nil {
			t.Fatal(err)
		}
		calls := rec.Calls()
		if len(calls) != 2 || calls[0].Operation != "PutParameter" || calls[1].Operation != "AddTagsToResource" {
			t.Fatalf("overwrite=%v: calls %v, want PutParameter then AddTagsToResource", overwrite, ops(calls))
		}
		put := calls[0].Input.(*ssm.PutParameterInput)
		if aws.ToString(put.KeyId) != "alias/km-github-token-sb-1" || put.Type != "SecureString" || aws.ToBool(put.Overwrite) != overwrite {
			t.Errorf("PutParameter input: KeyId %v Type %v Overwrite %v", put.KeyId, put.Type, put.Overwrite)
		}
		if len(put.Tags) != 0 {
			t.Errorf("PutParameter sent Tags %v (AWS rejects Tags with Overwrite)", put.Tags)
		}
		add := calls[1].Input.(*ssm.AddTagsToResourceInput)
		if aws.ToString(add.ResourceId) != name || add.ResourceType != "Parameter" || len(add.Tags) != 2 {
			t.Errorf("AddTagsToResource input = %+v", add)
		}
	}
	got, err := a.ListParameterTags(ctx, name)
	if err != nil || got["km:sandbox"] != "sb-1" || got["km:managed"] != "true" {
		t.Errorf("ListParameterTags = %v, %v", got, err)
	}
	// A String parameter never sends a KeyId.
	rec.Reset()
	if _, err := a.PutParameter(ctx, state.PutParameterInput{Name: name + "-plain", Type: "String", Value: "x", KeyID: "alias/ignored"}); err != nil {
		t.Fatal(err)
	}
	if in := rec.Operation("PutParameter")[0].Input.(*ssm.PutParameterInput); in.KeyId != nil {
		t.Errorf("String parameter sent KeyId %q", *in.KeyId)
	}
}

func TestPutParameterErrorNeverShowsTheValue(t *testing.T) {
	const secret = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
	// An endpoint whose validation error echoes the request value.
	echo := httpFunc(func(r *http.Request) (*http.Response, error) {
		return jsonError(400, "ValidationException", "1 validation error detected: Value '"+secret+"' at 'value' failed to satisfy constraint"), nil
	})
	a, _ := statetest.Client(t, "http://127.0.0.1:1", state.Options{HTTPClient: echo})
	_, err := a.PutParameter(context.Background(), state.PutParameterInput{Name: "/km/x", Type: "SecureString", Value: secret})
	if err == nil {
		t.Fatal("PutParameter succeeded against a failing endpoint")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error = %q, want the value redacted", err)
	}
	if !strings.Contains(err.Error(), "ssm PutParameter /km/x: ValidationException") {
		t.Errorf("error lacks context: %q", err)
	}
}

func ops(calls []state.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Operation)
	}
	return out
}
