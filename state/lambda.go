package state

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// Lambda defaults for km's refresher (a Go bootstrap binary).
const (
	defaultRuntime = "provided.al2023"
	defaultHandler = "bootstrap"
)

// roleRetry classifies the error Lambda returns while IAM has not yet made a
// just-created role assumable as retryable. It is used only by the operations
// that pass a role (CreateFunction, UpdateFunctionConfiguration).
var roleRetry = retryOn("InvalidParameterValueException", "cannot be assumed")

// retryOn classifies an API error with this code whose message contains
// msgPart as retryable, and leaves every other error to the other
// classifiers.
func retryOn(code, msgPart string) retryableFunc {
	return func(err error) aws.Ternary {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == code && strings.Contains(apiErr.ErrorMessage(), msgPart) {
			return aws.TrueTernary
		}
		return aws.UnknownTernary
	}
}

type retryableFunc func(error) aws.Ternary

func (f retryableFunc) IsErrorRetryable(err error) aws.Ternary { return f(err) }

// withRoleRetry makes one lambda call retry IAM propagation delays.
func (a *AWS) withRoleRetry(o *lambda.Options) { o.Retryer = a.roleRetryer }

// GetFunction reads a function's configuration; ErrNotFound when absent.
func (a *AWS) GetFunction(ctx context.Context, name string) (Function, error) {
	res, err := a.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	if err != nil {
		return Function{}, wrapErr("lambda", "GetFunctionConfiguration", name, err)
	}
	return fromFunctionConfiguration(lambdaConfig(*res)), nil
}

// CreateFunction creates a zip function (provided.al2023, handler bootstrap
// unless f says otherwise) and waits until it is Active. A role IAM has not
// yet propagated is retried by the SDK retryer; ErrAlreadyExists when the
// function exists.
func (a *AWS) CreateFunction(ctx context.Context, f Function, zip []byte) (Function, error) {
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(f.Name),
		Role:         aws.String(f.RoleARN),
		Runtime:      lambdatypes.Runtime(orDefault(f.Runtime, defaultRuntime)),
		Handler:      aws.String(orDefault(f.Handler, defaultHandler)),
		PackageType:  lambdatypes.PackageTypeZip,
		Code:         &lambdatypes.FunctionCode{ZipFile: zip},
		Description:  optString(f.Description),
		Environment:  &lambdatypes.Environment{Variables: f.Env},
	}
	if f.Architecture != "" {
		in.Architectures = []lambdatypes.Architecture{lambdatypes.Architecture(f.Architecture)}
	}
	in.MemorySize, in.Timeout, in.LoggingConfig = optionalSettings(f)
	if _, err := a.lambda.CreateFunction(ctx, in, a.withRoleRetry); err != nil {
		return Function{}, wrapErr("lambda", "CreateFunction", f.Name, err)
	}
	out, err := lambda.NewFunctionActiveV2Waiter(a.lambda).WaitForOutput(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(f.Name)}, a.lambdaMaxWait)
	if err != nil {
		return Function{}, wrapErr("lambda", "CreateFunction", f.Name+" (waiting for State Active)", err)
	}
	return fromGetFunction(out), nil
}

// UpdateFunctionCode uploads new code and waits until the update succeeded.
// The instruction set is part of the code on AWS: a non-empty architecture
// (arm64, x86_64) is sent as Architectures, the only way to change it. A
// non-empty revisionID makes AWS refuse the update if the function changed
// since it was read.
func (a *AWS) UpdateFunctionCode(ctx context.Context, name string, zip []byte, architecture, revisionID string) (Function, error) {
	in := &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String(name),
		ZipFile:      zip,
		RevisionId:   optString(revisionID),
	}
	if architecture != "" {
		in.Architectures = []lambdatypes.Architecture{lambdatypes.Architecture(architecture)}
	}
	_, err := a.lambda.UpdateFunctionCode(ctx, in)
	if err != nil {
		return Function{}, wrapErr("lambda", "UpdateFunctionCode", name, err)
	}
	return a.waitUpdated(ctx, name, "UpdateFunctionCode")
}

// UpdateFunctionConfiguration replaces the function's role, runtime, handler,
// memory, timeout, description and environment (an empty Env clears it), and
// the log group when f.LogGroup is set, then waits until the update
// succeeded.
func (a *AWS) UpdateFunctionConfiguration(ctx context.Context, f Function, revisionID string) (Function, error) {
	env := f.Env
	if env == nil {
		env = map[string]string{}
	}
	in := &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(f.Name),
		Role:         optString(f.RoleARN),
		Runtime:      lambdatypes.Runtime(orDefault(f.Runtime, defaultRuntime)),
		Handler:      aws.String(orDefault(f.Handler, defaultHandler)),
		Description:  aws.String(f.Description),
		Environment:  &lambdatypes.Environment{Variables: env},
		RevisionId:   optString(revisionID),
	}
	in.MemorySize, in.Timeout, in.LoggingConfig = optionalSettings(f)
	if _, err := a.lambda.UpdateFunctionConfiguration(ctx, in, a.withRoleRetry); err != nil {
		return Function{}, wrapErr("lambda", "UpdateFunctionConfiguration", f.Name, err)
	}
	return a.waitUpdated(ctx, f.Name, "UpdateFunctionConfiguration")
}

// optionalSettings are the memory, timeout and log group CreateFunction and
// UpdateFunctionConfiguration send only when f sets them (nil: AWS's default
// on create, unchanged on update).
func optionalSettings(f Function) (memory, timeout *int32, logging *lambdatypes.LoggingConfig) {
	if f.MemoryMB > 0 {
		memory = aws.Int32(f.MemoryMB)
	}
	if f.TimeoutSeconds > 0 {
		timeout = aws.Int32(f.TimeoutSeconds)
	}
	if f.LogGroup != "" {
		logging = &lambdatypes.LoggingConfig{LogGroup: aws.String(f.LogGroup)}
	}
	return memory, timeout, logging
}

func (a *AWS) waitUpdated(ctx context.Context, name, op string) (Function, error) {
	out, err := lambda.NewFunctionUpdatedV2Waiter(a.lambda).WaitForOutput(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, a.lambdaMaxWait)
	if err != nil {
		return Function{}, wrapErr("lambda", op, name+" (waiting for LastUpdateStatus Successful)", err)
	}
	return fromGetFunction(out), nil
}

// DeleteFunction deletes a function; ErrNotFound when it does not exist.
func (a *AWS) DeleteFunction(ctx context.Context, name string) error {
	_, err := a.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	return wrapErr("lambda", "DeleteFunction", name, err)
}

// Invoke runs the function synchronously and returns its response payload and
// the X-Amz-Function-Error value ("" when the function succeeded).
func (a *AWS) Invoke(ctx context.Context, name string, payload []byte) ([]byte, string, error) {
	res, err := a.lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(name),
		InvocationType: lambdatypes.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return nil, "", wrapErr("lambda", "Invoke", name, err)
	}
	return res.Payload, aws.ToString(res.FunctionError), nil
}

// InvokeAsync queues an asynchronous invocation (InvocationType Event) of
// the function; Lambda answers 202 once the event is accepted.
func (a *AWS) InvokeAsync(ctx context.Context, name string, payload []byte) error {
	_, err := a.lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(name),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	})
	return wrapErr("lambda", "Invoke", name, err)
}

// FunctionRecursion returns the function's recursive loop detection
// setting: "Terminate" (AWS's default) or "Allow".
func (a *AWS) FunctionRecursion(ctx context.Context, name string) (string, error) {
	out, err := a.lambda.GetFunctionRecursionConfig(ctx, &lambda.GetFunctionRecursionConfigInput{FunctionName: aws.String(name)})
	if err != nil {
		return "", wrapErr("lambda", "GetFunctionRecursionConfig", name, err)
	}
	return string(out.RecursiveLoop), nil
}

// PutFunctionRecursion sets the function's recursive loop detection
// setting ("Terminate" or "Allow").
func (a *AWS) PutFunctionRecursion(ctx context.Context, name, mode string) error {
	_, err := a.lambda.PutFunctionRecursionConfig(ctx, &lambda.PutFunctionRecursionConfigInput{
		FunctionName: aws.String(name), RecursiveLoop: lambdatypes.RecursiveLoop(mode),
	})
	return wrapErr("lambda", "PutFunctionRecursionConfig", name, err)
}

// lambdaConfig converts GetFunctionConfiguration's output to the shared type.
func lambdaConfig(o lambda.GetFunctionConfigurationOutput) lambdatypes.FunctionConfiguration {
	return lambdatypes.FunctionConfiguration{
		FunctionName:  o.FunctionName,
		FunctionArn:   o.FunctionArn,
		Runtime:       o.Runtime,
		Handler:       o.Handler,
		Role:          o.Role,
		Architectures: o.Architectures,
		MemorySize:    o.MemorySize,
		Timeout:       o.Timeout,
		Environment:   o.Environment,
		CodeSha256:    o.CodeSha256,
		CodeSize:      o.CodeSize,
		RevisionId:    o.RevisionId,
		LastModified:  o.LastModified,
		Description:   o.Description,
		LoggingConfig: o.LoggingConfig,
	}
}

func fromGetFunction(o *lambda.GetFunctionOutput) Function {
	if o == nil || o.Configuration == nil {
		return Function{}
	}
	return fromFunctionConfiguration(*o.Configuration)
}

func fromFunctionConfiguration(c lambdatypes.FunctionConfiguration) Function {
	f := Function{
		Name:           aws.ToString(c.FunctionName),
		ARN:            aws.ToString(c.FunctionArn),
		Runtime:        string(c.Runtime),
		Handler:        aws.ToString(c.Handler),
		RoleARN:        aws.ToString(c.Role),
		MemoryMB:       aws.ToInt32(c.MemorySize),
		TimeoutSeconds: aws.ToInt32(c.Timeout),
		CodeSHA256:     aws.ToString(c.CodeSha256),
		CodeSize:       c.CodeSize,
		RevisionID:     aws.ToString(c.RevisionId),
		LastModified:   aws.ToString(c.LastModified),
		Description:    aws.ToString(c.Description),
	}
	if len(c.Architectures) > 0 {
		f.Architecture = string(c.Architectures[0])
	}
	if c.Environment != nil && len(c.Environment.Variables) > 0 {
		f.Env = c.Environment.Variables
	}
	if c.LoggingConfig != nil {
		f.LogGroup = aws.ToString(c.LoggingConfig.LogGroup)
	}
	return f
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
