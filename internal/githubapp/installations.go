package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"
)

// Installation is one account's installation of the App.
type Installation struct {
	ID                  int64
	Account             string // login of the user or organization
	AccountType         string // "User" or "Organization"
	RepositorySelection string // "all" or "selected"
	SuspendedAt         *time.Time
	AppSlug             string
}

// Suspended reports whether the installation is suspended.
func (i Installation) Suspended() bool { return i.SuspendedAt != nil }

// App is the GitHub App itself.
type App struct {
	ID       int64
	Slug     string
	Name     string
	ClientID string
	Owner    string // login of the owning user or organization
	HTMLURL  string
	// Permissions the App asks of every installation, e.g. {"contents": "write"}.
	Permissions map[string]string
	Events      []string
}

// ListInstallations returns every installation of the App
// (GET /app/installations, 100 a page, every page). It needs an App client.
func (c *Client) ListInstallations(ctx context.Context) ([]Installation, error) {
	const op = "list the App's installations"
	if c.initErr != nil {
		return nil, c.initErr
	}
	var all []Installation
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, c.apiError(op, 0, "", err)
		}
		for _, in := range page {
			all = append(all, convertInstallation(in))
		}
		if resp.NextPage == 0 {
			return all, nil
		}
		if resp.NextPage == opts.Page {
			return nil, fmt.Errorf("%s: GitHub returned page %d twice; giving up", op, opts.Page)
		}
		opts.Page = resp.NextPage
	}
}

// GetInstallation returns one installation (GET /app/installations/{id}).
// It needs an App client.
func (c *Client) GetInstallation(ctx context.Context, id int64) (Installation, error) {
	const op = "look up installation"
	if c.initErr != nil {
		return Installation{}, c.initErr
	}
	in, _, err := c.gh.Apps.GetInstallation(ctx, id)
	if err != nil {
		return Installation{}, c.apiError(op, id, "", err)
	}
	return convertInstallation(in), nil
}

// GetApp returns the App the client authenticates as (GET /app).
func (c *Client) GetApp(ctx context.Context) (App, error) {
	const op = "look up the GitHub App"
	if c.initErr != nil {
		return App{}, c.initErr
	}
	// go-github v62's App has no client_id: decode it ourselves.
	req, err := c.gh.NewRequest(http.MethodGet, "app", nil)
	if err != nil {
		return App{}, fmt.Errorf("%s: %w", op, err)
	}
	var a struct {
		ID       int64  `json:"id"`
		Slug     string `json:"slug"`
		Name     string `json:"name"`
		ClientID string `json:"client_id"`
		HTMLURL  string `json:"html_url"`
		Owner    struct {
			Login string `json:"login"`
		} `json:"owner"`
		Permissions map[string]string `json:"permissions"`
		Events      []string          `json:"events"`
	}
	if _, err := c.gh.Do(ctx, req, &a); err != nil {
		return App{}, c.apiError(op, 0, "", err)
	}
	return App{
		ID:          a.ID,
		Slug:        a.Slug,
		Name:        a.Name,
		ClientID:    a.ClientID,
		Owner:       a.Owner.Login,
		HTMLURL:     a.HTMLURL,
		Permissions: a.Permissions,
		Events:      a.Events,
	}, nil
}

func convertInstallation(in *github.Installation) Installation {
	out := Installation{
		ID:                  in.GetID(),
		Account:             in.GetAccount().GetLogin(),
		AccountType:         in.GetAccount().GetType(),
		RepositorySelection: in.GetRepositorySelection(),
		AppSlug:             in.GetAppSlug(),
	}
	if in.SuspendedAt != nil {
		t := in.SuspendedAt.Time
		out.SuspendedAt = &t
	}
	if out.AccountType == "" {
		out.AccountType = in.GetTargetType()
	}
	return out
}
