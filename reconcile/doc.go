// Package reconcile owns km's change set: it builds the desired resources from the
// declaration, reads the live ones through small interfaces over the state package,
// diffs them into a Plan (one change-set type), and applies it in dependency order.
// Rendering a plan belongs to reconcile/views.
//
// Each resource kind owns its whole lifecycle in one kind_*.go file
// implementing Kind: its exported type name (TypeToken, ...), its desired
// resources, its dependencies (delete order is derived from them), its reads,
// Diff and Apply, and the small interface its AWS calls go through. It is
// registered in kinds(). README.md walks through adding one; outside this
// package a new kind needs its calls in state and the schema's type enum
// (docs/plan-json.schema.json; reconcile/views' test checks it against
// ResourceTypes). Other packages read a sandbox's status and a token's metadata
// through FoldSandboxStatus and LiveTokenMeta, never a kind's Extra or reasons.
//
// It must not import the AWS SDK or cmd/*.
package reconcile
