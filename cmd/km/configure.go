package main

import (
	"os"

	"github.com/klankermaker/km/internal/setup"
)

// ConfigureCmd is km configure.
type ConfigureCmd struct {
	Github ConfigureGithubCmd `cmd:"" name:"github" help:"Record the GitHub App and its installations in km.yaml and SSM."`
}

// ConfigureCmd has no Run of its own: kong calls every Run from the selected
// command up to the root, so a parent Run would fail after the child succeeded.
// Without a subcommand kong's parser reports `expected "github"` and km exits 1.

// ConfigureGithubCmd is km configure github.
type ConfigureGithubCmd struct {
	Setup          bool   `name:"setup" help:"Create the App with the manifest flow first (opens a browser), as km github does."`
	Discover       bool   `name:"discover" help:"List every installation of the App and record one per account."`
	InstallationID int64  `name:"installation-id" placeholder:"ID" help:"Record this installation id (with --account)."`
	Account        string `name:"account" placeholder:"LOGIN" help:"GitHub account or organization login of --installation-id."`
	AppClientID    string `name:"app-client-id" placeholder:"ID" help:"GitHub App client ID."`
	PrivateKeyFile string `name:"private-key-file" placeholder:"PATH" type:"path" help:"Path of the App's private key .pem."`
	Force          bool   `name:"force" help:"Overwrite values that differ in km.yaml or SSM."`
	NonInteractive bool   `name:"non-interactive" help:"Never prompt; use the flag values."`
	Org            string `name:"org" help:"With --setup: create the App in this organization."`
	NoBrowser      bool   `name:"no-browser" help:"With --setup: print the local URL instead of opening a browser."`
}

// Run implements km configure github.
func (c *ConfigureGithubCmd) Run(g *Globals) error {
	o := setup.ConfigureOptions{
		Discover: c.Discover, InstallationID: c.InstallationID, Account: c.Account,
		AppClientID: c.AppClientID, PrivateKeyFile: c.PrivateKeyFile, Force: c.Force,
		Interactive: !c.NonInteractive && isTerminal(g.Stdin),
	}
	if c.Setup {
		if _, err := setup.CreateApp(g.Ctx, g.env(), setup.CreateAppOptions{Org: c.Org, NoBrowser: c.NoBrowser, Force: c.Force}); err != nil {
			return err
		}
		if !c.Discover && c.Account == "" && c.AppClientID == "" && c.PrivateKeyFile == "" {
			return nil
		}
	}
	_, err := setup.Configure(g.Ctx, g.env(), o)
	return err
}

func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
