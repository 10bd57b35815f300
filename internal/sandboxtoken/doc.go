// Package sandboxtoken owns the contract around a sandbox's GitHub token, the
// one both km apply (reconcile) and the refresher (lambda) must agree on:
//
//   - param.go: the token parameters' names under /sandbox/{id}/ and their parsing;
//   - payload.go, revoke.go: the refresh schedule's input and the revoke request
//     and result the refresher answers with;
//   - meta.go: the non-secret metadata kept in the parameter's description;
//   - store.go: the write of a minted token (SecureString, sandbox key, tags);
//   - unrevoked.go: the records of retired tokens km could not revoke.
//
// The refresher's log event names stay in lambda (log.go): only the refresher
// emits them. No other package builds a /sandbox/ path.
//
// It must not import reconcile, lambda, profiles or anything under cmd.
package sandboxtoken
