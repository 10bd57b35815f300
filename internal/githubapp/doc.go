// Package githubapp owns everything km says to GitHub: the App's private key
// and JWT, installation lookup and discovery, installation token minting and
// revocation, the App manifest conversion, and the sticky plan comment on a
// pull request. It is built on google/go-github/v62 and golang-jwt/jwt/v5.
//
// Every request goes through a retrying transport (5xx, 429 and secondary rate
// limits, within the context deadline), token mints wait on the App's mint
// budget when Options.Mints is set, and every failure is returned as an
// *APIError that names the cause and the fix and matches sentinel kinds with
// errors.Is (ErrUnauthorized, ErrSuspended, ErrInstallationNotFound, ...).
//
// Secrets — installation tokens and the App private key — never appear in an
// error string or in the formatted form of a value this package returns.
//
// This package must not import the AWS SDK or any km package but
// internal/pemkey (the PEM parser): callers read the key from wherever it
// lives and hand it over as PEM bytes.
package githubapp
