package state

import (
	"errors"
	"testing"

	"github.com/aws/smithy-go"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		op, code, msg string
		want          error
	}{
		{"GetParameter", "ParameterNotFound", "", ErrNotFound},
		{"DescribeKey", "NotFoundException", "", ErrNotFound},
		{"GetSchedule", "ResourceNotFoundException", "", ErrNotFound},
		{"GetRole", "NoSuchEntity", "", ErrNotFound},
		{"PutParameter", "ParameterAlreadyExists", "", ErrAlreadyExists},
		{"CreateAlias", "AlreadyExistsException", "", ErrAlreadyExists},
		{"CreateRole", "EntityAlreadyExists", "", ErrAlreadyExists},
		{"CreateLogGroup", "ResourceAlreadyExistsException", "", ErrAlreadyExists},
		{"CreateSchedule", "ConflictException", "", ErrAlreadyExists},
		{"CreateFunction", "ResourceConflictException", "", ErrAlreadyExists},
		// Conflicts outside creates are concurrent modifications, not "exists".
		{"UpdateFunctionCode", "ResourceConflictException", "An update is in progress", nil},
		{"DeleteScheduleGroup", "ConflictException", "", nil},
		{"CancelKeyDeletion", "InvalidAction", "The action CancelKeyDeletion is not valid for this endpoint.", ErrUnsupported},
		{"Foo", "UnknownOperationException", "", ErrUnsupported},
		{"Foo", "ValidationException", "The action Foo is not valid", ErrUnsupported},
		{"Foo", "UnrecognizedClientException", "The action Foo is not valid for this web service", ErrUnsupported},
		{"PutParameter", "ValidationException", "Value too long", nil},
		{"GetParameter", "AccessDeniedException", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.code, func(t *testing.T) {
			orig := &smithy.GenericAPIError{Code: tt.code, Message: tt.msg}
			err := wrapErr("svc", tt.op, "res", orig)
			for _, s := range []error{ErrNotFound, ErrAlreadyExists, ErrUnsupported} {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%v) = %v", s, got)
				}
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr != orig {
				t.Errorf("the original error is not in the chain")
			}
		})
	}
	if wrapErr("svc", "Op", "res", nil) != nil {
		t.Error("wrapErr(nil) != nil")
	}
}

func TestDecodePolicy(t *testing.T) {
	tests := []struct{ in, want string }{
		{`%7B%22Version%22%3A%222012-10-17%22%2C%22Resource%22%3A%22a+b%20c%22%7D`, `{"Version":"2012-10-17","Resource":"a+b c"}`},
		{`{"Version":"2012-10-17","Resource":"50%"}`, `{"Version":"2012-10-17","Resource":"50%"}`},
	}
	for _, tt := range tests {
		if got, err := decodePolicy(tt.in); err != nil || got != tt.want {
			t.Errorf("decodePolicy(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
