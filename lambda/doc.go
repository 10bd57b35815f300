// Package lambda is the token refresher: the handler of the one shared Lambda
// function that EventBridge Scheduler invokes every 45 minutes per sandbox.
// For each owner of the sandbox it mints a fresh installation token with
// internal/githubapp (the same code km apply uses), verifies what GitHub
// granted (a non-empty token, an expiry in the future, exactly the requested
// repositories and permissions), and only then overwrites the sandbox's SSM
// SecureString through internal/sandboxtoken (the same write km apply does).
// Any failure leaves the previous token in place and fails the invocation with
// a message naming the cause, the sandbox and the owner, so that Lambda's
// asynchronous retries run; a failure while GitHub is unavailable is handed
// on to the relay instead (relay.go).
//
// It trusts nothing in a payload (jobs.go): the sandbox id, key alias,
// parameters and permissions must follow km's naming rules, and the stored
// parameter must exist with the same owner and scope, or the payload is
// refused (token_refresh_refused) before any GitHub call. It never creates
// a parameter: km apply writes the first token.
//
// It also answers km apply's and km destroy's synchronous revoke requests
// (revoke.go): it reads every version of the named parameters (SSM history,
// or the current version where the endpoint has no history) and revokes
// each at GitHub with the token itself, answering with hashes and outcomes.
//
// Every token produces exactly one structured JSON log event, token_refreshed
// or token_refresh_failed (or token_refresh_refused, token_revoke), carrying
// the token's SHA-256 prefix for audit and never the token or the App
// private key.
//
// It must not import cmd/*. cmd/km-refresher wires it to the Lambda runtime.
package lambda
