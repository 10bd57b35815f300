// Package proxy owns km proxy, the sandbox's GitHub-aware egress proxy: it lets
// through only the declaration's GitHub hosts, only requests scoped to the
// profile's allowedRepos (or to non-repository endpoints the profile opens
// explicitly), and only pushes whose refs pass profiles.PushRefAllowed, read
// from the git-receive-pack request as it streams, before one byte of the pack
// is forwarded.
//
// It owns: the classifier of GitHub URL shapes (Classify), the streaming
// pkt-line parser of receive-pack requests (ParsePushRequest) and the
// report-status answer to a refused push (DenyReport), the policy decision
// (Policy), the per-sandbox CA and its in-memory leaf cache (CA), the
// structured decision log (one slog line per decision, never a header), and the
// HTTP/CONNECT server built on github.com/elazarl/goproxy (Server).
//
// Authorization headers pass through untouched and are never logged.
//
// It must not import the AWS SDK, state, reconcile, internal/githubapp,
// internal/sandbox or cmd/*: cmd/km turns the sandbox settings into a Config.
package proxy
