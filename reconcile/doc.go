// Package reconcile owns km's change set: it builds the desired resources from the
// declaration, reads the live ones through small interfaces over the state package,
// diffs them into a Plan (one change-set type), renders the plan (text, JSON,
// Markdown), and applies it in dependency order.
//
// Each resource kind lives in one kind_*.go file implementing Kind (read, diff and
// apply) and one line in kinds(). It must not import the AWS SDK or cmd/*.
package reconcile
