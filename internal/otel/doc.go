// Package otel owns km otel: the refresher's log events for one sandbox, read
// from its CloudWatch log group with a term pattern and checked field by
// field, printed as text or the documented JSON (docs/otel-json.schema.json).
// It also parses the refresher's log lines for km doctor's failure count.
//
// It reaches AWS through state only; it must not import cmd/* or the AWS
// SDK, and it never prints a token (the refresher logs short hashes only).
package otel
