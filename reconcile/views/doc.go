// Package views renders a reconcile.Plan for people and machines, kept apart
// from the plan as Terraform keeps internal/command/views apart from its
// plans: the Terraform-style text (text.go), the plan JSON (json.go,
// docs/plan-json.md), the Markdown of PR comments (markdown.go) and its cut
// into comment-sized parts (split.go, SplitComment), and Render,
// the one place a --format name picks one of them. Golden files in
// testdata/golden pin every byte (go test ./reconcile/views -run
// TestRenderGolden -update rewrites them).
//
// It must not import the AWS SDK, state or cmd/*: a view reads a plan, never
// AWS.
package views
