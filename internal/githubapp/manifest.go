package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// DefaultAppURL is the homepage a new App's manifest points at.
const DefaultAppURL = "https://github.com/klankermaker/km"

// Manifest is a GitHub App manifest
// (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest).
type Manifest struct {
	Name               string            `json:"name,omitempty"`
	URL                string            `json:"url"`
	Description        string            `json:"description,omitempty"`
	HookAttributes     *HookAttributes   `json:"hook_attributes,omitempty"`
	RedirectURL        string            `json:"redirect_url,omitempty"`
	CallbackURLs       []string          `json:"callback_urls,omitempty"`
	SetupURL           string            `json:"setup_url,omitempty"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions,omitempty"`
	DefaultEvents      []string          `json:"default_events,omitempty"`
}

// HookAttributes configures the App's webhook.
type HookAttributes struct {
	URL    string `json:"url"`
	Active bool   `json:"active"`
}

// NewManifest returns km's App manifest: public (so other accounts can
// install it), contents: write and metadata: read, and no webhook.
func NewManifest(name, redirectURL string) Manifest {
	return Manifest{
		Name:        name,
		URL:         DefaultAppURL,
		Description: "Scoped, short-lived GitHub tokens for km sandboxes.",
		RedirectURL: redirectURL,
		Public:      true,
		DefaultPermissions: map[string]string{
			"contents": "write",
			"metadata": "read",
		},
	}
}

// JSON returns the manifest as GitHub expects it in the form's "manifest" field.
func (m Manifest) JSON() (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode the App manifest: %w", err)
	}
	return string(b), nil
}

// ManifestFormURL is where the manifest form is POSTed: the App registration
// page of the user (org == "") or of organization org, on webURL
// (https://github.com or a GHES host), carrying state for CSRF protection.
func ManifestFormURL(webURL, org, state string) string {
	if webURL == "" {
		webURL = "https://github.com"
	}
	base := strings.TrimSuffix(webURL, "/")
	path := "/settings/apps/new"
	if org != "" {
		path = "/organizations/" + url.PathEscape(org) + path
	}
	return base + path + "?state=" + url.QueryEscape(state)
}

// AppCredentials is what the manifest conversion returns: the new App and
// its private key. Its formatted forms (%v, %+v, %#v, %s, JSON, slog) never
// show PEM.
type AppCredentials struct {
	ID       int64
	Slug     string
	Name     string
	ClientID string
	Owner    string
	HTMLURL  string
	PEM      []byte // secret
}

func (a AppCredentials) String() string {
	return fmt.Sprintf("App %s (id %d, client ID %s, owner %s, private key redacted)", a.Slug, a.ID, a.ClientID, a.Owner)
}

func (a AppCredentials) GoString() string {
	return fmt.Sprintf("githubapp.AppCredentials{ID:%d, Slug:%q, Name:%q, ClientID:%q, Owner:%q, HTMLURL:%q, PEM:(redacted)}",
		a.ID, a.Slug, a.Name, a.ClientID, a.Owner, a.HTMLURL)
}

// Format makes every fmt verb print a form without the key.
func (a AppCredentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, a.GoString())
		return
	}
	io.WriteString(f, a.String())
}

// MarshalJSON leaves the key out.
func (a AppCredentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(App{ID: a.ID, Slug: a.Slug, Name: a.Name, ClientID: a.ClientID, Owner: a.Owner, HTMLURL: a.HTMLURL})
}

// LogValue leaves the key out of slog output.
func (a AppCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", a.ID), slog.String("slug", a.Slug), slog.String("client_id", a.ClientID))
}

var manifestCodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// ConvertManifest exchanges the code GitHub passed to the redirect URL for
// the new App's credentials (POST /app-manifests/{code}/conversions). Use an
// anonymous client. The code is good once, for one hour.
func (c *Client) ConvertManifest(ctx context.Context, code string) (AppCredentials, error) {
	const op = "convert the App manifest code"
	if c.initErr != nil {
		return AppCredentials{}, c.initErr
	}
	if !manifestCodePattern.MatchString(code) {
		return AppCredentials{}, fmt.Errorf("%s: the code GitHub passed to the redirect URL is missing or malformed; run km github again", op)
	}
	cfg, _, err := c.gh.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		aerr := c.apiError(op, 0, "", err)
		if e, ok := aerr.(*APIError); ok && (e.kind == ErrNotFound || e.kind == ErrUnprocessable) {
			return AppCredentials{}, fmt.Errorf("the manifest code expired (codes last one hour) or was already used; run km github again: %w", aerr)
		}
		return AppCredentials{}, aerr
	}
	if cfg.GetPEM() == "" {
		return AppCredentials{}, fmt.Errorf("%s: GitHub returned App %q without a private key; generate one in the App's settings and run km configure github --private-key-file", op, cfg.GetSlug())
	}
	return AppCredentials{
		ID:       cfg.GetID(),
		Slug:     cfg.GetSlug(),
		Name:     cfg.GetName(),
		ClientID: cfg.GetClientID(),
		Owner:    cfg.GetOwner().GetLogin(),
		HTMLURL:  cfg.GetHTMLURL(),
		PEM:      []byte(cfg.GetPEM()),
	}, nil
}
