package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/klankermaker/km/state"
)

const TypeFunction = "aws_lambda_function"

// functionKind: the shared refresher Lambda function.
type functionKind struct{}

func (functionKind) Type() string { return TypeFunction }

// FunctionAPI is the Lambda slice the refresher function uses.
type FunctionAPI interface {
	GetFunction(ctx context.Context, name string) (state.Function, error)
	CreateFunction(ctx context.Context, f state.Function, zip []byte) (state.Function, error)
	UpdateFunctionCode(ctx context.Context, name string, zip []byte, architecture, revisionID string) (state.Function, error)
	FunctionRecursion(ctx context.Context, name string) (string, error)
	PutFunctionRecursion(ctx context.Context, name, mode string) error
	UpdateFunctionConfiguration(ctx context.Context, f state.Function, revisionID string) (state.Function, error)
}

func (functionKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	var out []*Resource
	for _, d := range desired {
		f, err := rt.AWS.GetFunction(ctx, d.ID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading Lambda function %s: %w", d.ID, err)
		}
		env := f.Env
		if env == nil {
			env = map[string]string{}
		}
		recursion, err := rt.AWS.FunctionRecursion(ctx, d.ID)
		if state.IsUnsupported(err) {
			// The endpoint cannot show the setting (kumo): take it as
			// declared rather than plan a change nothing can apply.
			recursion, err = d.Attrs["recursive_loop"], nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the recursive loop setting of Lambda function %s: %w", d.ID, err)
		}
		out = append(out, &Resource{
			Address: d.Address, Type: TypeFunction, ID: f.Name,
			Attrs: map[string]string{
				"function_name": f.Name, "runtime": f.Runtime, "handler": f.Handler,
				"architecture": f.Architecture, "memory_size": strconv.Itoa(int(f.MemoryMB)),
				"timeout": strconv.Itoa(int(f.TimeoutSeconds)), "role": f.RoleARN,
				"environment": mustJSON(env), "source_code_hash": f.CodeSHA256, "arn": f.ARN,
				"recursive_loop": recursion,
			},
			Fingerprint: "revision=" + f.RevisionID + " code=" + f.CodeSHA256,
			Extra:       f.RevisionID,
		})
	}
	return out, nil
}

func (functionKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	switch {
	case desired == nil:
		return NoOp, ""
	case live == nil:
		return Create, "function missing"
	}
	a, why := diffAttrs(desired, live)
	if a == Update && !EqualAttr(desired.Attrs["source_code_hash"], live.Attrs["source_code_hash"]) {
		why = "deployed code (CodeSha256 " + live.Attrs["source_code_hash"] + ") differs from this km's refresher; " + why
	}
	return a, why
}

func (functionKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	d := c.desired
	f, err := functionFrom(d)
	if err != nil {
		return nil, err
	}
	if c.Action == Create {
		got, err := rt.AWS.CreateFunction(ctx, f, rt.Zip)
		if err == nil {
			return map[string]string{"arn": got.ARN}, setRecursion(ctx, rt, d, "")
		}
		if !isExists(err) {
			return nil, err
		}
	}
	live, err := rt.AWS.GetFunction(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	rev := live.RevisionID
	if live.CodeSHA256 != d.Attrs["source_code_hash"] || live.Architecture != f.Architecture {
		up, err := rt.AWS.UpdateFunctionCode(ctx, d.ID, rt.Zip, f.Architecture, rev)
		if err != nil {
			return nil, err
		}
		rev = up.RevisionID
	}
	if configDiffers(live, f) {
		up, err := rt.AWS.UpdateFunctionConfiguration(ctx, f, rev)
		if err != nil {
			return nil, err
		}
		live = up
	}
	return map[string]string{"arn": live.ARN}, setRecursion(ctx, rt, d, c.Before["recursive_loop"])
}

// setRecursion applies the declared recursive loop setting when it differs
// from before ("" after a create: AWS's default is Terminate). An endpoint
// without the action (kumo) is skipped.
func setRecursion(ctx context.Context, rt *Runtime, d *Resource, before string) error {
	want := d.Attrs["recursive_loop"]
	if want == "" || want == before {
		return nil
	}
	err := rt.AWS.PutFunctionRecursion(ctx, d.ID, want)
	if state.IsUnsupported(err) {
		return nil
	}
	return err
}

func configDiffers(live, want state.Function) bool {
	if live.MemoryMB != want.MemoryMB || live.TimeoutSeconds != want.TimeoutSeconds ||
		live.RoleARN != want.RoleARN || live.Runtime != want.Runtime || live.Handler != want.Handler ||
		len(live.Env) != len(want.Env) {
		return true
	}
	for k, v := range want.Env {
		if live.Env[k] != v {
			return true
		}
	}
	return false
}

func functionFrom(d *Resource) (state.Function, error) {
	mem, err1 := strconv.Atoi(d.Attrs["memory_size"])
	to, err2 := strconv.Atoi(d.Attrs["timeout"])
	if err1 != nil || err2 != nil {
		return state.Function{}, fmt.Errorf("function %s: memory_size/timeout are not numbers", d.ID)
	}
	env := map[string]string{}
	if err := json.Unmarshal([]byte(d.Attrs["environment"]), &env); err != nil {
		return state.Function{}, fmt.Errorf("function %s environment: %w", d.ID, err)
	}
	return state.Function{
		Name: d.ID, Runtime: d.Attrs["runtime"], Handler: d.Attrs["handler"],
		RoleARN: d.Attrs["role"], Architecture: d.Attrs["architecture"],
		MemoryMB: int32(mem), TimeoutSeconds: int32(to), Env: env,
		Description: "km GitHub token refresher",
	}, nil
}

const addrFunction = "aws_lambda_function.refresher"

// DependsOn: the function runs as a role and logs to the log group.
func (functionKind) DependsOn() []string { return []string{TypeRole, TypeLogGroup} }

// Desired declares the refresher function.
func (functionKind) Desired(d *decl) ([]*Resource, error) {
	cfg, rt, n := d.cfg, d.rt, d.rt.Names
	env := map[string]string{
		"KM_PREFIX":         n.Prefix,
		"KM_REGION":         rt.Region,
		"KM_GITHUB_API_URL": cfg.GitHub.APIURL,
	}
	return []*Resource{{
		Address: addrFunction, Type: TypeFunction, ID: n.Function(),
		Attrs: map[string]string{
			"function_name":    n.Function(),
			"runtime":          "provided.al2023",
			"handler":          "bootstrap",
			"architecture":     cfg.Refresher.Architecture,
			"memory_size":      strconv.Itoa(int(cfg.Refresher.MemoryMB)),
			"timeout":          strconv.Itoa(int(cfg.Refresher.TimeoutSeconds)),
			"role":             ref(addrRefresherRole, "arn"),
			"environment":      mustJSON(env),
			"source_code_hash": ZipSHA256(rt.Zip),
			// The relay (lambda/relay.go) invokes the function from itself
			// on purpose; Lambda's recursive loop detection would stop a
			// relay after 16 invocations. The relay bounds itself.
			"recursive_loop": "Allow",
			"arn":            Unknown,
		},
		DependsOn: []string{addrRefresherRole, addrLogGroup},
	}}, nil
}

// ReadTouched reads the touched function (readTouchedDeclared).
func (k functionKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}
