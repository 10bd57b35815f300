// Package sandboxes owns the sandbox lifecycle commands: km create and km
// destroy (edit km.yaml, keeping its comments, and apply only that sandbox's
// resources through a planapply.Session, restoring km.yaml when anything
// fails), km list (each sandbox's status, tokens, schedule and unrevoked
// tokens, as text or the documented JSON) and km refresh (fire a sandbox's
// schedule now). It must not import cmd/* or the AWS SDK.
package sandboxes
