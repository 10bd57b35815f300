// Package reconcile owns km's change set: it builds the desired resources from the
// declaration, reads the live ones through small interfaces over the state package,
// diffs them into a Plan (one change-set type), and applies it in dependency order.
// Rendering a plan belongs to reconcile/views.
//
// Each resource kind's Read, Diff and Apply live in one kind_*.go file implementing
// Kind, with its exported type name (TypeToken, ...), registered in kinds(). A new
// kind still touches more than that today: its desired resources and
// dependencies in desired.go, its AWS calls' interface in aws.go, deleteRank in
// plan.go, precheck.go when a saved plan must re-read it, its names in
// internal/names, its calls in state, and the schema's type enum
// (docs/plan-json.schema.json; reconcile/views' test checks it against
// ResourceTypes). Other packages read a sandbox's status and a token's metadata
// through FoldSandboxStatus and LiveTokenMeta, never a kind's Extra or reasons.
//
// It must not import the AWS SDK or cmd/*.
package reconcile
