package main

import "github.com/klankermaker/km/internal/setup"

// GithubCmd is km github: create the GitHub App with the manifest flow.
type GithubCmd struct {
	Org       string `name:"org" help:"Create the App in this organization (default: your user account)."`
	Name      string `name:"name" help:"The App's name (default km-sandbox-XXXXXX; you can change it on GitHub's page)."`
	NoBrowser bool   `name:"no-browser" help:"Print the local URL instead of opening a browser."`
	Force     bool   `name:"force" help:"Replace an App already recorded in km.yaml or SSM."`
}

// Run implements km github.
func (c *GithubCmd) Run(g *Globals) error {
	_, err := setup.CreateApp(g.Ctx, g.env(), setup.CreateAppOptions{
		Org: c.Org, Name: c.Name, NoBrowser: c.NoBrowser, Force: c.Force,
	})
	return err
}
