// Package kmyaml edits km.yaml in place for km create, km destroy and km
// configure github: it adds and removes sandboxes entries and sets the github
// section, keeping the user's comments, order and layout. An edit is made as a
// text splice of the lines concerned (splice.go, edit_splice.go) and falls back
// to a yaml.v3 node edit (edit_nodes.go) only when a splice cannot express it;
// either way the result must decode to exactly the intended document, or the
// file is left unchanged. Files are replaced through internal/atomicfile.
//
// It checks what it writes with profiles' rules; it must not import state,
// reconcile, the AWS SDK or anything under cmd.
package kmyaml
