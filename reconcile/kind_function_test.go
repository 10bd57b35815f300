package reconcile

import (
	"context"
	"testing"

	"github.com/klankermaker/km/state"
)

// fakeFunctions implements FunctionAPI over one function; recursion
// unsupported answers PutFunctionRecursion as kumo does.
type fakeFunctions struct {
	AWS         // nil: a call outside FunctionAPI panics
	fn          *state.Function
	unsupported bool
	calls       calls
}

func (f *fakeFunctions) GetFunction(_ context.Context, name string) (state.Function, error) {
	f.calls.add("GetFunction", name)
	if f.fn == nil {
		return state.Function{}, state.ErrNotFound
	}
	return *f.fn, nil
}

func (f *fakeFunctions) CreateFunction(_ context.Context, fn state.Function, zip []byte) (state.Function, error) {
	f.calls.add("CreateFunction", fn.Name)
	if f.fn != nil {
		return state.Function{}, state.ErrAlreadyExists
	}
	fn.ARN, fn.CodeSHA256, fn.RevisionID = "arn:function/"+fn.Name, ZipSHA256(zip), "r1"
	f.fn = &fn
	return fn, nil
}

func (f *fakeFunctions) UpdateFunctionCode(_ context.Context, name string, zip []byte, arch, rev string) (state.Function, error) {
	f.calls.add("UpdateFunctionCode", name, arch, rev)
	f.fn.CodeSHA256, f.fn.Architecture, f.fn.RevisionID = ZipSHA256(zip), arch, "r2"
	return *f.fn, nil
}

func (f *fakeFunctions) FunctionRecursion(_ context.Context, name string) (string, error) {
	f.calls.add("FunctionRecursion", name)
	return "Terminate", nil
}

func (f *fakeFunctions) PutFunctionRecursion(_ context.Context, name, mode string) error {
	f.calls.add("PutFunctionRecursion", name, mode)
	if f.unsupported {
		return state.ErrUnsupported
	}
	return nil
}

func (f *fakeFunctions) UpdateFunctionConfiguration(_ context.Context, fn state.Function, rev string) (state.Function, error) {
	f.calls.add("UpdateFunctionConfiguration", fn.Name, rev)
	fn.ARN, fn.CodeSHA256, fn.RevisionID = f.fn.ARN, f.fn.CodeSHA256, "r3"
	f.fn = &fn
	return fn, nil
}

func functionRes(zip []byte, memory string) *Resource {
	return res(TypeFunction, addrFunction, "kmt-fn", "function_name", "kmt-fn", "runtime", "provided.al2023",
		"handler", "bootstrap", "architecture", "arm64", "memory_size", memory, "timeout", "30",
		"role", "arn:role/r", "environment", `{"KM_PREFIX":"kmt"}`, "source_code_hash", ZipSHA256(zip),
		"recursive_loop", "Allow", "arn", Unknown)
}

func TestFunctionDiff(t *testing.T) {
	want := functionRes([]byte("new"), "128")
	checkDiff(t, functionKind{}, []diffCase{
		{"missing", want, nil, Create, "function missing"},
		{"same", want, functionRes([]byte("new"), "128"), NoOp, ""},
		{"memory changed", want, functionRes([]byte("new"), "256"), Update, "memory_size differs"},
		{"other code", want, functionRes([]byte("old"), "128"), Update, "differs from this km's refresher"},
		{"undeclared: never deleted", nil, want, NoOp, ""},
	})
}

func TestFunctionApply(t *testing.T) {
	ctx := context.Background()
	zip := []byte("new")
	for _, tc := range []struct {
		name        string
		live        *state.Function
		unsupported bool
		act         Action
		before      *Resource
		want        string
	}{
		{"create", nil, false, Create, nil, "CreateFunction kmt-fn; PutFunctionRecursion kmt-fn Allow"},
		{"create without recursion control", nil, true, Create, nil, "CreateFunction kmt-fn; PutFunctionRecursion kmt-fn Allow"},
		{"new code only", &state.Function{Name: "kmt-fn", ARN: "arn:function/kmt-fn", Runtime: "provided.al2023", Handler: "bootstrap",
			RoleARN: "arn:role/r", Architecture: "arm64", MemoryMB: 128, TimeoutSeconds: 30, Env: map[string]string{"KM_PREFIX": "kmt"},
			CodeSHA256: ZipSHA256([]byte("old")), RevisionID: "r1"}, false, Update, functionRes([]byte("old"), "128"),
			"GetFunction kmt-fn; UpdateFunctionCode kmt-fn arm64 r1"},
		{"configuration only", &state.Function{Name: "kmt-fn", ARN: "arn:function/kmt-fn", Runtime: "provided.al2023", Handler: "bootstrap",
			RoleARN: "arn:role/r", Architecture: "arm64", MemoryMB: 256, TimeoutSeconds: 30, Env: map[string]string{"KM_PREFIX": "kmt"},
			CodeSHA256: ZipSHA256(zip), RevisionID: "r1"}, false, Update, functionRes(zip, "256"),
			"GetFunction kmt-fn; UpdateFunctionConfiguration kmt-fn r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFunctions{fn: tc.live, unsupported: tc.unsupported}
			rt := fakeRuntime(f)
			rt.Zip = zip
			out, err := functionKind{}.Apply(ctx, rt, changeFor(functionRes(zip, "128"), tc.before, tc.act))
			if err != nil || out["arn"] != "arn:function/kmt-fn" || f.calls.String() != tc.want {
				t.Fatalf("Apply: %v %v, calls %q want %q", out, err, f.calls, tc.want)
			}
			if f.fn.MemoryMB != 128 || f.fn.CodeSHA256 != ZipSHA256(zip) {
				t.Errorf("function after Apply: %+v", f.fn)
			}
		})
	}
}
