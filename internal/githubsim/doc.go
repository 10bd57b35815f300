// Package githubsim is a GitHub simulator for tests and the local demo, used
// the way net/http/httptest is used: start a Server in a test, point clients
// at Server.URL, inspect what happened, Close it.
//
// One host serves both sides of GitHub, so the API URL and the web/git URL
// are the same (Server.URL):
//
//   - the REST API at the root, as api.github.com: GitHub App JWT
//     authentication, installations, installation access tokens (scoping,
//     expiry, revocation), the App manifest flow, issue comments and
//     /rate_limit, with the status codes and fields of GitHub's OpenAPI
//     description (testdata/api.github.com.apps-subset.json);
//   - git smart HTTP (/{owner}/{repo}.git/...) served by the real
//     `git http-backend`, authenticated with HTTP Basic
//     "x-access-token:<installation token>" and scoped like GitHub.
//
// Authorization decisions on the git side follow GitHub for private
// repositories: a token that cannot see a repository (other account, repository
// outside the token's or installation's selection) gets 404, so git reports
// "repository not found"; a token that sees the repository but lacks the
// permission (pushing with contents: read) gets 403; missing, unknown, expired
// or revoked credentials get 401 with `WWW-Authenticate: Basic realm="GitHub"`,
// so git asks its credential helper or askpass.
//
// Tests may inject failures (FailNext), read the request log (Requests),
// the tokens issued (Tokens) and the comments posted (Comments), and turn on
// OpenAPI validation of every request and response (WithOpenAPIValidation,
// ValidationErrors).
//
// The package holds no package-level mutable state: every Server is
// independent. It must not import other km packages (it is the GitHub that
// they are tested against).
package githubsim
