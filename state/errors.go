package state

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// notFoundCodes are the API error codes of a resource that does not exist.
var notFoundCodes = map[string]bool{
	"ParameterNotFound":         true, // ssm
	"ParameterVersionNotFound":  true, // ssm
	"NotFoundException":         true, // kms
	"ResourceNotFoundException": true, // scheduler, lambda, logs
	"NoSuchEntity":              true, // iam
	"NoSuchEntityException":     true, // iam (JSON spelling)
}

// alreadyExistsCodes are the API error codes of a create that found the
// resource already there, whatever the operation.
var alreadyExistsCodes = map[string]bool{
	"ParameterAlreadyExists":         true, // ssm
	"AlreadyExistsException":         true, // kms
	"EntityAlreadyExists":            true, // iam
	"EntityAlreadyExistsException":   true, // iam (JSON spelling)
	"ResourceAlreadyExistsException": true, // logs
}

// createConflictCodes mean "already exists" only on Create* operations: on
// other operations AWS uses them for concurrent modifications (lambda: an
// update in progress; scheduler: a conflicting change).
var createConflictCodes = map[string]bool{
	"ConflictException":         true, // scheduler
	"ResourceConflictException": true, // lambda
}

// unsupportedCodes are what AWS and emulators answer for an action they do not
// implement. kumo v0.33.1 answers InvalidAction (kms, iam), ValidationException
// "The action X is not valid" (ssm), UnrecognizedClientException "The action X
// is not valid for this web service" (logs).
var unsupportedCodes = map[string]bool{
	"InvalidAction":             true,
	"UnknownOperationException": true,
	"UnknownOperation":          true,
	"UnsupportedOperation":      true,
	"NotImplemented":            true,
}

// actionNotValid matches the "the action X is not valid" messages above.
var actionNotValid = regexp.MustCompile(`(?i)\bthe action '?[A-Za-z0-9]*'? is not valid\b`)

// opError is an AWS failure with context. It unwraps to both the original SDK
// error and, when classified, one of ErrNotFound, ErrAlreadyExists,
// ErrUnsupported.
type opError struct {
	msg  string
	kind error
	err  error
}

func (e *opError) Error() string { return e.msg }

func (e *opError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

// minSecretLen is the shortest value wrapErr redacts: shorter values ("1",
// "true") are not secrets and would garble the message.
const minSecretLen = 8

// wrapErr adds "service Operation resource: " to err and classifies it. Any
// secret given is replaced in the message (validation errors may echo input).
func wrapErr(service, op, resource string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	kind := classify(op, err)
	var detail strings.Builder
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		detail.WriteString(apiErr.ErrorCode())
		if m := apiErr.ErrorMessage(); m != "" {
			detail.WriteString(": " + m)
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			fmt.Fprintf(&detail, " (HTTP %d", re.HTTPStatusCode())
			if id := re.ServiceRequestID(); id != "" {
				detail.WriteString(", request id " + id)
			}
			detail.WriteString(")")
		}
	} else {
		detail.WriteString(err.Error())
	}
	d := detail.String()
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			d = strings.ReplaceAll(d, s, "[REDACTED]")
		}
	}
	msg := service + " " + op
	if resource != "" {
		msg += " " + resource
	}
	msg += ": "
	if kind == ErrUnsupported {
		msg += fmt.Sprintf("this endpoint does not implement %s:%s: ", service, op)
	}
	msg += d
	return &opError{msg: msg, kind: kind, err: err}
}

// classify maps an SDK error to ErrNotFound, ErrAlreadyExists, ErrUnsupported
// or nil.
func classify(op string, err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		// A REST endpoint with no route for the operation answers 404
		// without an AWS error body (kumo v0.33.1 for Lambda's
		// recursion-config); a missing resource is a 404 with one.
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
			return ErrUnsupported
		}
		return nil
	}
	code := apiErr.ErrorCode()
	switch {
	case notFoundCodes[code]:
		return ErrNotFound
	case alreadyExistsCodes[code]:
		return ErrAlreadyExists
	case createConflictCodes[code] && strings.HasPrefix(op, "Create"):
		return ErrAlreadyExists
	case unsupportedCodes[code], actionNotValid.MatchString(apiErr.ErrorMessage()):
		return ErrUnsupported
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotImplemented {
		return ErrUnsupported
	}
	return nil
}

// IsNotFound reports whether err wraps ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsAlreadyExists reports whether err wraps ErrAlreadyExists.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// IsUnsupported reports whether err wraps ErrUnsupported.
func IsUnsupported(err error) bool { return errors.Is(err, ErrUnsupported) }
