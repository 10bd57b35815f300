package proxy

import (
	"net"
	"net/url"
	"strings"

	"github.com/klankermaker/km/profiles"
)

// Kind says what a GitHub request is.
type Kind string

// Request kinds. The repository-scoped ones carry Owner and Repo.
const (
	KindGit      Kind = "git"      // smart HTTP: info/refs, git-upload-pack, git-receive-pack
	KindLFS      Kind = "lfs"      // /{o}/{r}.git/info/lfs/...
	KindRepoAPI  Kind = "repo-api" // /repos/{o}/{r}/... on the API
	KindArchive  Kind = "archive"  // codeload
	KindRaw      Kind = "raw"      // raw.githubusercontent.com
	KindWeb      Kind = "web"      // any other /{o}/{r}/... on the web host (dumb git, archive links)
	KindObjects  Kind = "objects"  // objects.githubusercontent.com: signed URLs handed out by allowed requests
	KindEndpoint Kind = "endpoint" // a non-repository API endpoint (Endpoint says which)
	KindApp      Kind = "app"      // the App's own API (JWT, installation tokens): never reachable
	KindOther    Kind = "other"    // anything else: not repository-scoped
)

// Target is what Classify found in a request.
type Target struct {
	Kind Kind
	// Owner and Repo are set for repository-scoped kinds, as written in the URL
	// (Repo without a .git suffix).
	Owner, Repo string
	// Service is git-upload-pack or git-receive-pack for KindGit.
	Service string
	// Endpoint is one of profiles.KnownEndpoints for KindEndpoint.
	Endpoint string
}

// RepoScoped reports whether t names a repository.
func (t Target) RepoScoped() bool { return t.Owner != "" }

// hostRole is what a GitHub host serves.
type hostRole uint8

const (
	roleWeb hostRole = 1 << iota
	roleAPI
	roleCodeload
	roleRaw
	roleObjects
)

// hostEntry is one GitHub host (scheme://host[:port]) and its path prefixes.
type hostEntry struct {
	roles     hostRole
	webPrefix string // GHES with a base path; "" otherwise
	apiPrefix string // /api/v3 on GHES; "" on api.github.com and the simulator
}

// hostKey is scheme://host[:port], lowercased, without the scheme's default port.
func hostKey(scheme, hostport string) string {
	scheme = strings.ToLower(scheme)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host
}

// isAPIRoot reports whether seg is the first path segment of a REST API
// request (after its prefix): Classify reads such paths as API requests on a
// host that is both web and API (the simulator, a GHES whose apiURL has no
// prefix).
func isAPIRoot(seg string) bool {
	switch seg {
	case "repos", "graphql", "search", "user", "users", "gists", "orgs", "app", "app-manifests",
		"installation", "repositories", "rate_limit", "meta", "notifications", "organizations", "emojis",
		"events", "feeds", "markdown", "licenses", "gitignore", "octocat", "zen", "applications",
		"authorizations", "enterprises", "marketplace_listing":
		return true
	}
	return false
}

// classify reads a request's path on a known host. escPath is the escaped
// path (URL.EscapedPath), so an encoded slash stays visible and is refused.
func classify(e hostEntry, escPath string) Target {
	if e.roles&roleObjects != 0 {
		return Target{Kind: KindObjects}
	}
	segs, ok := splitPath(escPath)
	if !ok {
		return Target{Kind: KindOther}
	}
	if e.roles&roleAPI != 0 {
		// Under a non-empty API prefix (/api/v3) everything is the API; on a
		// host serving both at its root, the first segment decides.
		if rest, ok := cutPrefix(segs, e.apiPrefix); ok && len(rest) > 0 && (e.roles&roleWeb == 0 || e.apiPrefix != "" || isAPIRoot(rest[0])) {
			return classifyAPI(rest)
		} else if ok && e.apiPrefix != "" {
			return Target{Kind: KindOther} // the API root
		}
		// GHES serves GraphQL at /api/graphql next to the REST API at /api/v3.
		if p, ok := strings.CutSuffix(e.apiPrefix, "/v3"); ok && p != "" {
			if rest, ok := cutPrefix(segs, p); ok && len(rest) == 1 && rest[0] == "graphql" {
				return Target{Kind: KindEndpoint, Endpoint: profiles.EndpointGraphQL}
			}
		}
	}
	switch {
	case e.roles&roleWeb != 0:
		if rest, ok := cutPrefix(segs, e.webPrefix); ok {
			return classifyWeb(rest)
		}
	case e.roles&(roleCodeload|roleRaw) != 0:
		if len(segs) >= 3 && validOwner(segs[0]) && validRepo(segs[1]) {
			k := KindArchive
			if e.roles&roleRaw != 0 {
				k = KindRaw
			}
			return Target{Kind: k, Owner: segs[0], Repo: segs[1]}
		}
	}
	return Target{Kind: KindOther}
}

func classifyAPI(rest []string) Target {
	switch rest[0] {
	case "repos":
		if len(rest) >= 3 && validOwner(rest[1]) && validRepo(rest[2]) {
			return Target{Kind: KindRepoAPI, Owner: rest[1], Repo: strings.TrimSuffix(rest[2], ".git")}
		}
	case "app", "app-manifests":
		return Target{Kind: KindApp}
	case "graphql":
		if len(rest) == 1 {
			return Target{Kind: KindEndpoint, Endpoint: profiles.EndpointGraphQL}
		}
	case "search":
		return Target{Kind: KindEndpoint, Endpoint: profiles.EndpointSearch}
	case "user":
		return Target{Kind: KindEndpoint, Endpoint: profiles.EndpointUser}
	case "gists":
		return Target{Kind: KindEndpoint, Endpoint: profiles.EndpointGists}
	case "orgs", "users":
		return Target{Kind: KindEndpoint, Endpoint: profiles.EndpointOrgs}
	}
	return Target{Kind: KindOther}
}

func classifyWeb(rest []string) Target {
	if len(rest) < 2 || !validOwner(rest[0]) || !validRepo(rest[1]) {
		return Target{Kind: KindOther}
	}
	t := Target{Kind: KindWeb, Owner: rest[0], Repo: strings.TrimSuffix(rest[1], ".git")}
	tail := rest[2:]
	switch {
	case len(tail) == 2 && tail[0] == "info" && tail[1] == "refs":
		t.Kind = KindGit // the service comes from the query
	case len(tail) == 1 && (tail[0] == "git-upload-pack" || tail[0] == "git-receive-pack"):
		t.Kind, t.Service = KindGit, tail[0]
	case len(tail) >= 2 && tail[0] == "info" && tail[1] == "lfs":
		t.Kind = KindLFS
	}
	return t
}

// splitPath splits an escaped path into segments. It refuses what a server
// might read differently from the proxy: empty, "." and ".." segments and
// percent-encoded characters in the first two segments.
func splitPath(esc string) ([]string, bool) {
	if esc == "" || esc == "/" {
		return nil, true
	}
	if !strings.HasPrefix(esc, "/") {
		return nil, false
	}
	segs := strings.Split(strings.TrimPrefix(esc, "/"), "/")
	if segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	for i, s := range segs {
		if s == "" || s == "." || s == ".." {
			return nil, false
		}
		u, err := url.PathUnescape(s)
		if err != nil || u == "." || u == ".." || strings.ContainsAny(u, "/\\") {
			return nil, false
		}
		if i < 4 && strings.Contains(s, "%") { // owner/repo positions in every shape
			return nil, false
		}
	}
	return segs, true
}

// cutPrefix strips the segments of prefix (like /api/v3) from segs.
func cutPrefix(segs []string, prefix string) ([]string, bool) {
	p := strings.Split(strings.Trim(prefix, "/"), "/")
	if len(p) == 1 && p[0] == "" {
		return segs, true
	}
	if len(segs) < len(p) {
		return nil, false
	}
	for i := range p {
		if !strings.EqualFold(segs[i], p[i]) {
			return nil, false
		}
	}
	return segs[len(p):], true
}

// validOwner reports whether s can be a GitHub login (letters, digits, hyphens).
func validOwner(s string) bool {
	if s == "" || len(s) > 39 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validRepo reports whether s can be a repository name (with an optional .git).
func validRepo(s string) bool {
	s = strings.TrimSuffix(s, ".git")
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
