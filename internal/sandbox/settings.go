package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/profiles"
)

// SettingsVersion is the version of the settings file format this package writes.
const SettingsVersion = 1

// DefaultSettingsPath is where the helpers look for the settings file when they
// are not told (the seed installed km under /opt/km). The files `km sandbox init`
// writes always pass the path explicitly.
const DefaultSettingsPath = "/opt/km/etc/sandbox.json"

// Settings is everything the askpass helper and the pre-push hook need, read from
// the settings file every time git calls them. It holds no secret: the token is
// named (Owners[i].Parameter), never stored.
type Settings struct {
	Version   int    `json:"version"`
	SandboxID string `json:"sandboxId"`
	Profile   string `json:"profile"`
	Region    string `json:"region,omitempty"` // empty: the AWS SDK chain decides
	Prefix    string `json:"prefix"`
	// GitURL is the git host the askpass answers for: scheme://host[:port][/base],
	// normalised (see NormalizeGitURL). Every other host gets no answer.
	GitURL string `json:"gitURL"`
	// AllowedRefs are the profile's allowedRefs; empty means every ref is allowed.
	AllowedRefs []string `json:"allowedRefs"`
	// Push reports whether the profile grants push at all.
	Push bool `json:"push"`
	// APIURL is the GitHub API base (github.apiURL), normalised like GitURL; km
	// proxy reads it to know the API host.
	APIURL string `json:"apiURL,omitempty"`
	// AllowedRepos are the profile's allowedRepos (owner/repo, owner/*, or "*"
	// when it applies to every owner; a "*" that stands for the default
	// installation's account is written as that account's owner/*). km proxy
	// enforces them on every request.
	AllowedRepos []string `json:"allowedRepos,omitempty"`
	// AllowedEndpoints are the non-repository API endpoints the profile opens to
	// km proxy (profiles.KnownEndpoints); empty: none.
	AllowedEndpoints []string `json:"allowedEndpoints,omitempty"`
	// Enforcement is the profile's spec.network.enforcement (hook or proxy).
	Enforcement string `json:"enforcement,omitempty"`
	// Owners maps each owner (lowercase, in profile order) to the SSM parameter
	// holding its token. The first owner's parameter is the seed's name.
	Owners []OwnerParam `json:"owners"`
}

// OwnerParam names the SSM parameter that holds one owner's token.
type OwnerParam struct {
	Owner     string `json:"owner"`
	Parameter string `json:"parameter"`
}

// SettingsFor builds the settings of sandbox id from a loaded km.yaml (with
// ApplyEnv already applied, so KM_GITHUB_WEB_URL is honoured).
func SettingsFor(cfg *profiles.Config, id string) (Settings, error) {
	sb, ok := cfg.Sandbox(id)
	if !ok {
		return Settings{}, fmt.Errorf("sandbox %q is not declared under sandboxes: in %s; add it (km create) or check --sandbox-id", id, cfg.File)
	}
	p := cfg.Profile(sb.Profile)
	if p == nil {
		return Settings{}, fmt.Errorf("sandbox %q uses profile %q, which is not in %s; add the profile or fix the sandbox entry in %s", id, sb.Profile, cfg.ProfilesDir, cfg.File)
	}
	gitURL, err := NormalizeGitURL(cfg.GitHub.WebURL)
	if err != nil {
		return Settings{}, fmt.Errorf("github.webURL in %s (or KM_GITHUB_WEB_URL): %w", cfg.File, err)
	}
	owners := cfg.OwnersOf(p)
	if len(owners) == 0 {
		return Settings{}, fmt.Errorf("profile %q (%s) names no repository owner in allowedRepos, so sandbox %q has no token to hand to git", p.Name, p.File, id)
	}
	s := Settings{
		Version:     SettingsVersion,
		SandboxID:   id,
		Profile:     p.Name,
		Region:      cfg.Region,
		Prefix:      names.New(cfg.Prefix).Prefix,
		GitURL:      gitURL,
		AllowedRefs: append([]string{}, p.AllowedRefs...),
		Push:        p.CanPush(),
	}
	if cfg.GitHub.APIURL != "" {
		if s.APIURL, err = NormalizeGitURL(cfg.GitHub.APIURL); err != nil {
			return Settings{}, fmt.Errorf("github.apiURL in %s (or KM_GITHUB_API_URL): %w", cfg.File, err)
		}
	}
	s.Enforcement = p.Enforcement
	s.AllowedEndpoints = slices.Clone(p.AllowedEndpoints)
	for _, rp := range p.AllowedRepos {
		if rp.Owner == "*" && cfg.GitHub.DefaultInstallation != "" {
			rp = profiles.RepoPattern{Owner: cfg.GitHub.DefaultInstallation, Repo: "*"}
		}
		s.AllowedRepos = append(s.AllowedRepos, rp.String())
	}
	for i, o := range owners {
		s.Owners = append(s.Owners, OwnerParam{Owner: strings.ToLower(o), Parameter: sandboxtoken.Param(id, o, i == 0)})
	}
	return s, s.Validate()
}

// Validate checks what the helpers rely on.
func (s Settings) Validate() error {
	var errs []error
	if s.Version != SettingsVersion {
		errs = append(errs, fmt.Errorf("version is %d, this km understands %d; re-run km sandbox init with this km", s.Version, SettingsVersion))
	}
	if s.SandboxID == "" {
		errs = append(errs, errors.New("sandboxId is empty"))
	}
	if n, err := NormalizeGitURL(s.GitURL); err != nil {
		errs = append(errs, fmt.Errorf("gitURL: %w", err))
	} else if n != s.GitURL {
		errs = append(errs, fmt.Errorf("gitURL %q is not normalised (want %q)", s.GitURL, n))
	}
	if len(s.Owners) == 0 {
		errs = append(errs, errors.New("owners is empty"))
	}
	for _, o := range s.Owners {
		if o.Owner == "" || o.Parameter == "" {
			errs = append(errs, fmt.Errorf("owner entry %+v needs both owner and parameter", o))
		}
	}
	return errors.Join(errs...)
}

// Encode returns the settings file's content (indented JSON, trailing newline).
func (s Settings) Encode() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s) // strings, bools and slices of them cannot fail
	return buf.Bytes()
}

// ReadSettings reads and validates the settings file at path.
func ReadSettings(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, fmt.Errorf("reading km sandbox settings: %w; run km sandbox init in this sandbox", err)
	}
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, fmt.Errorf("km sandbox settings %s: %w; re-run km sandbox init", path, err)
	}
	if err := s.Validate(); err != nil {
		return Settings{}, fmt.Errorf("km sandbox settings %s: %w", path, err)
	}
	return s, nil
}

// NormalizeGitURL turns a web URL such as https://GitHub.com/ or
// https://ghes.example:443/ into the form prompts are compared with:
// lowercase scheme and host, no default port, no trailing slash, no query.
func NormalizeGitURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("%q must start with https:// (or http:// for a local simulator)", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must be scheme://host[:port][/path] without user, query or fragment", raw)
	}
	return hostKey(u) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// hostKey is scheme://host[:port] with scheme and host lowercased and the
// scheme's default port dropped.
func hostKey(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "https" && p == "443") && !(scheme == "http" && p == "80") {
		host += ":" + p
	}
	return scheme + "://" + host
}
