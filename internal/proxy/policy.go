package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/klankermaker/km/profiles"
)

// Config is what the proxy enforces for one sandbox: the fields of the
// settings file `km sandbox init` writes.
type Config struct {
	SandboxID        string
	WebURL           string   // github.webURL, e.g. https://github.com
	APIURL           string   // github.apiURL; empty: derived from WebURL (api.github.com or WebURL/api/v3)
	AllowedRepos     []string // owner/repo, owner/*, "*"
	AllowedRefs      []string // profiles.PushRefAllowed patterns; empty: every ref
	Push             bool     // the profile grants push
	AllowedEndpoints []string // profiles.KnownEndpoints opened explicitly
}

// Rules named in decisions (the X-Km-Deny header, the log's rule field).
const (
	RuleHost      = "host"       // not one of the sandbox's GitHub hosts
	RuleApp       = "app-api"    // the App's API (installation tokens): never
	RuleNonRepo   = "non-repo"   // not repository-scoped and not opened by allowedEndpoints
	RuleEndpoint  = "endpoint"   // opened by allowedEndpoints
	RuleRepo      = "repo"       // owner/repo checked against allowedRepos
	RuleObjects   = "objects"    // signed object download host
	RulePush      = "push"       // the profile does not grant push
	RuleRef       = "ref"        // a pushed ref checked against allowedRefs
	RuleMalformed = "malformed"  // a push request the proxy cannot read
	RuleRequest   = "bad-target" // a request target the proxy cannot place (non-canonical path, no host)
)

// Decision is the proxy's answer to one request (or one pushed ref).
type Decision struct {
	Allowed bool
	Rule    string
	Reason  string // one line, safe to show and log
	Target  Target
}

// Policy decides requests for one sandbox. It is immutable and safe for
// concurrent use.
type Policy struct {
	sandbox   string
	hosts     map[string]hostEntry
	repos     []profiles.RepoPattern
	refs      []string
	push      bool
	endpoints []string
}

// NewPolicy checks c and builds the policy.
func NewPolicy(c Config) (*Policy, error) {
	var errs []error
	p := &Policy{sandbox: c.SandboxID, hosts: map[string]hostEntry{}, refs: slices.Clone(c.AllowedRefs), push: c.Push}
	web, err := parseBase(c.WebURL)
	if err != nil {
		errs = append(errs, fmt.Errorf("gitURL (github.webURL) %w", err))
	}
	apiRaw := c.APIURL
	if apiRaw == "" && web != nil {
		if strings.EqualFold(web.Hostname(), "github.com") {
			apiRaw = "https://api.github.com"
		} else {
			apiRaw = strings.TrimRight(c.WebURL, "/") + "/api/v3"
		}
	}
	api, err := parseBase(apiRaw)
	if err != nil {
		errs = append(errs, fmt.Errorf("apiURL (github.apiURL) %w", err))
	}
	if len(c.AllowedRepos) == 0 {
		errs = append(errs, errors.New("allowedRepos is empty: the profile names no repository, so the proxy would let nothing through; re-run km sandbox init with this km"))
	}
	for _, s := range c.AllowedRepos {
		rp, err := profiles.ParseRepoPattern(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("allowedRepos: %w", err))
			continue
		}
		p.repos = append(p.repos, rp)
	}
	for _, r := range c.AllowedRefs {
		if err := profiles.ValidateRefPattern(r); err != nil {
			errs = append(errs, fmt.Errorf("allowedRefs: %w", err))
		}
	}
	for _, e := range c.AllowedEndpoints {
		if known := profiles.KnownEndpoints(); !slices.Contains(known, e) {
			errs = append(errs, fmt.Errorf("allowedEndpoints: unknown endpoint %q; expected one of %s", e, strings.Join(known, ", ")))
		}
	}
	p.endpoints = slices.Clone(c.AllowedEndpoints)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p.add(web, roleWeb)
	p.add(api, roleAPI)
	if strings.EqualFold(web.Hostname(), "github.com") {
		p.add(mustURL("https://codeload.github.com"), roleCodeload)
		p.add(mustURL("https://raw.githubusercontent.com"), roleRaw)
		p.add(mustURL("https://objects.githubusercontent.com"), roleObjects)
	}
	return p, nil
}

func (p *Policy) add(u *url.URL, role hostRole) {
	k := hostKey(u.Scheme, u.Host)
	e := p.hosts[k]
	e.roles |= role
	switch role {
	case roleWeb:
		e.webPrefix = strings.TrimRight(u.EscapedPath(), "/")
	case roleAPI:
		e.apiPrefix = strings.TrimRight(u.EscapedPath(), "/")
	}
	p.hosts[k] = e
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("%q must be http(s)://host[:port][/path]", raw)
	}
	return u, nil
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// SandboxID is the sandbox the policy is for.
func (p *Policy) SandboxID() string { return p.sandbox }

// Hosts lists the reachable hosts (scheme://host[:port]), sorted.
func (p *Policy) Hosts() []string {
	var out []string
	for k := range p.hosts {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Connect decides a CONNECT to hostport: only the sandbox's https GitHub
// hosts are reachable; anything else is refused before any TLS.
func (p *Policy) Connect(hostport string) Decision {
	k := hostKey("https", hostport)
	if _, ok := p.hosts[k]; ok {
		return Decision{Allowed: true, Rule: RuleHost, Reason: k + " is a GitHub host of sandbox " + p.sandbox}
	}
	return Decision{Rule: RuleHost, Reason: fmt.Sprintf("CONNECT to %s refused: not a GitHub host of sandbox %s (allowed: %s)", hostport, p.sandbox, strings.Join(p.Hosts(), ", "))}
}

// Decide decides one HTTP request by its absolute URL, as seen by the proxy
// (a receive-pack body is then decided by DecideRefs).
func (p *Policy) Decide(u *url.URL) Decision {
	if u == nil || u.Host == "" {
		return Decision{Rule: RuleRequest, Reason: "the request names no host; km proxy serves absolute-form requests and CONNECT only"}
	}
	k := hostKey(u.Scheme, u.Host)
	e, ok := p.hosts[k]
	if !ok {
		return Decision{Rule: RuleHost, Reason: fmt.Sprintf("%s is not a GitHub host of sandbox %s (allowed: %s)", k, p.sandbox, strings.Join(p.Hosts(), ", "))}
	}
	if _, ok := splitPath(u.EscapedPath()); !ok {
		return Decision{Rule: RuleRequest, Reason: "the path has empty, '.' or '..' segments or encoded characters where an owner or repository goes"}
	}
	t := classify(e, u.EscapedPath())
	if t.Kind == KindGit && t.Service == "" {
		t.Service = u.Query().Get("service")
	}
	d := Decision{Target: t}
	switch {
	case t.Kind == KindObjects:
		d.Allowed, d.Rule, d.Reason = true, RuleObjects, "signed object download (objects.githubusercontent.com)"
	case t.Kind == KindApp:
		d.Rule, d.Reason = RuleApp, "the GitHub App's API (installation tokens) is never reachable from a sandbox"
	case t.Kind == KindEndpoint:
		if slices.Contains(p.endpoints, t.Endpoint) {
			d.Allowed, d.Rule, d.Reason = true, RuleEndpoint, "endpoint "+t.Endpoint+" is opened by allowedEndpoints"
		} else {
			d.Rule, d.Reason = RuleNonRepo, fmt.Sprintf("%s is not repository-scoped (endpoint %s); the profile does not list it in allowedEndpoints", u.EscapedPath(), t.Endpoint)
		}
	case !t.RepoScoped():
		d.Rule, d.Reason = RuleNonRepo, u.EscapedPath()+" is not repository-scoped; km proxy lets through only requests naming an allowed repository"
	case !p.RepoAllowed(t.Owner, t.Repo):
		d.Rule, d.Reason = RuleRepo, fmt.Sprintf("repository %s/%s is not in the profile's allowedRepos", t.Owner, t.Repo)
	case t.Kind == KindGit && t.Service == "git-receive-pack" && !p.push:
		d.Rule, d.Reason = RulePush, fmt.Sprintf("push to %s/%s refused: the profile does not grant push", t.Owner, t.Repo)
	default:
		d.Allowed, d.Rule, d.Reason = true, RuleRepo, fmt.Sprintf("repository %s/%s is allowed", t.Owner, t.Repo)
	}
	return d
}

// RepoAllowed reports whether owner/repo matches allowedRepos
// (case-insensitive, an optional .git suffix ignored).
func (p *Policy) RepoAllowed(owner, repo string) bool {
	repo = strings.TrimSuffix(repo, ".git")
	for _, rp := range p.repos {
		if rp.Owner == "*" || strings.EqualFold(rp.Owner, owner) && (rp.Repo == "*" || strings.EqualFold(rp.Repo, repo)) {
			return true
		}
	}
	return false
}

// DenialMessage is the line git shows for a refused ref, the same words as
// the pre-push hook's.
func DenialMessage(ref string) string {
	return fmt.Sprintf("[km] Push to '%s' denied", profiles.RefDisplayName(ref))
}

// WholePushRefused is the reason given to the allowed refs of a refused push.
const WholePushRefused = "[km] push refused whole: another ref in it is denied"

// DecideRefs decides every command of a push with profiles.PushRefAllowed,
// the pre-push hook's rule. Deletions and force pushes follow the same rule.
func (p *Policy) DecideRefs(cmds []Command) []Decision {
	out := make([]Decision, 0, len(cmds))
	for _, c := range cmds {
		d := Decision{Rule: RuleRef}
		switch {
		case !p.push:
			d.Reason = DenialMessage(c.Ref) + ": the profile does not grant push"
		case profiles.PushRefAllowed(p.refs, c.Ref):
			d.Allowed, d.Reason = true, c.Ref+" matches allowedRefs"
		default:
			d.Reason = DenialMessage(c.Ref)
		}
		out = append(out, d)
	}
	return out
}
