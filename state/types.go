// Package state reads and writes km's live resources in AWS (SSM, KMS, EventBridge
// Scheduler, Lambda, IAM, CloudWatch Logs, STS) through aws-sdk-go-v2, and implements
// the state lock. It returns plain Go values, never SDK types, so that callers do not
// need the SDK. Every list follows its paginator to the end as AWS documents it.
//
// It must not import reconcile, cmd/*, or internal/githubapp.
package state

import (
	"errors"
	"time"
)

// ErrNotFound is wrapped by every error for a resource that does not exist
// (ParameterNotFound, NotFoundException, ResourceNotFoundException, NoSuchEntity, ...).
var ErrNotFound = errors.New("not found")

// ErrAlreadyExists is wrapped by every error for a create that found the resource
// already there (ParameterAlreadyExists, AlreadyExistsException, ConflictException,
// EntityAlreadyExists, ResourceConflictException, ResourceAlreadyExistsException).
var ErrAlreadyExists = errors.New("already exists")

// ErrUnsupported is wrapped when the endpoint does not implement an action
// (kumo lacks a few, e.g. kms:CancelKeyDeletion, kms:UpdateAlias).
var ErrUnsupported = errors.New("action not supported by this endpoint")

// Parameter is an SSM parameter.
type Parameter struct {
	Name         string
	Type         string // String, SecureString, StringList
	Value        string // only when read with GetParameter(s)
	Description  string
	KeyID        string // SecureString key as AWS reports it (kumo: empty)
	Version      int64
	LastModified time.Time
	ARN          string
}

// PutParameterInput writes one parameter. Tags are applied with AddTagsToResource
// after the put, because AWS rejects Tags together with Overwrite.
type PutParameterInput struct {
	Name        string
	Type        string
	Value       string
	Description string
	KeyID       string // for SecureString: alias name or key id
	Overwrite   bool
	Tags        map[string]string
}

// Key is a KMS key.
type Key struct {
	KeyID        string
	ARN          string
	State        string // Enabled, Disabled, PendingDeletion, ...
	Description  string
	DeletionDate time.Time // zero unless PendingDeletion
	CreationDate time.Time
}

// Alias is a KMS alias.
type Alias struct {
	Name        string // alias/...
	TargetKeyID string
	ARN         string
}

// Schedule is an EventBridge Scheduler schedule.
type Schedule struct {
	Name               string
	Group              string
	ARN                string
	Expression         string // rate(45 minutes)
	State              string // ENABLED, DISABLED
	Description        string
	TargetARN          string
	RoleARN            string
	Input              string
	RetryMaxAttempts   int32
	MaxEventAgeSeconds int32
	FlexibleWindowOff  bool
	// StartDate: when the schedule may first invoke its target; a rate()
	// schedule fires at StartDate and every rate after it (zero: not set).
	StartDate    time.Time
	LastModified time.Time
	CreationDate time.Time
}

// ScheduleSummary is what ListSchedules returns.
type ScheduleSummary struct {
	Name         string
	Group        string
	State        string
	TargetARN    string
	LastModified time.Time
}

// Function is a Lambda function's configuration.
type Function struct {
	Name           string
	ARN            string
	Runtime        string
	Handler        string
	RoleARN        string
	Architecture   string // arm64 or x86_64
	MemoryMB       int32
	TimeoutSeconds int32
	Env            map[string]string
	CodeSHA256     string // as AWS reports it: base64 of the raw SHA-256 digest
	CodeSize       int64
	RevisionID     string
	LastModified   string
	Description    string
	LogGroup       string // LoggingConfig.LogGroup when set
}

// Role is an IAM role with its inline policies.
type Role struct {
	Name             string
	ARN              string
	AssumeRolePolicy string            // URL-decoded JSON
	InlinePolicies   map[string]string // name -> URL-decoded JSON
	Description      string
}

// LogGroup is a CloudWatch Logs group.
type LogGroup struct {
	Name          string
	ARN           string
	RetentionDays int32 // 0: never expire
}

// LogEvent is one CloudWatch Logs event.
type LogEvent struct {
	Time    time.Time
	Stream  string
	Message string
	EventID string
}

// Identity is the caller as STS reports it.
type Identity struct {
	Account string
	ARN     string
	UserID  string
}

// LockInfo is what the state lock parameter holds (JSON).
type LockInfo struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	Who       string    `json:"who"`
	Created   time.Time `json:"created"`
	Version   string    `json:"version,omitempty"`
	// PID is the holder's process id on the host named in Who.
	PID int `json:"pid,omitempty"`
}
