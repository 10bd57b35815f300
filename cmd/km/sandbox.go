package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/klankermaker/km/internal/sandbox"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/state"
)

// SandboxCmd groups the commands run inside a sandbox.
type SandboxCmd struct {
	Init SandboxInitCmd `cmd:"" help:"Install the askpass helper and the pre-push hook under --root and point git at them."`
}

// SandboxInitCmd is `km sandbox init`.
type SandboxInitCmd struct {
	SandboxID string `name:"sandbox-id" required:"" help:"Sandbox id, as listed under sandboxes: in km.yaml."`
	Root      string `name:"root" required:"" type:"path" help:"Folder for bin/km-git-askpass, hooks/pre-push and etc/sandbox.json."`
	GitConfig string `name:"git-config" type:"path" help:"Git config file to write (default: git's system config)."`
	Proxy     string `name:"proxy" help:"km proxy's URL (http://HOST:PORT): sets http.proxy and http.sslCAInfo and prints the environment for other tools."`
	ProxyCA   string `name:"proxy-ca" type:"path" help:"The proxy CA certificate git trusts (default: ROOT/etc/proxy-ca/ca.pem, where km proxy --settings ROOT/etc/sandbox.json creates it)."`
}

// Run writes the helper files and the git config.
func (c *SandboxInitCmd) Run(g *Globals) error {
	cfg, err := profiles.Load(g.Config)
	if err != nil {
		return err
	}
	cfg.ApplyEnv(os.Getenv)
	s, err := sandbox.SettingsFor(cfg, c.SandboxID)
	if err != nil {
		return err
	}
	km, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the km binary the helpers should run: %w", err)
	}
	in, err := sandbox.Init(g.Ctx, s, sandbox.InitOptions{Root: c.Root, KM: km, GitConfig: c.GitConfig, Proxy: c.Proxy, ProxyCA: c.ProxyCA})
	if err != nil {
		return err
	}
	where := in.GitConfig
	if where == "" {
		where = "git's system config"
	}
	fmt.Fprintf(g.Stdout, "km: sandbox %s (profile %s): wrote %s, %s, %s\n", s.SandboxID, s.Profile, in.Askpass, in.Hook, in.Settings)
	fmt.Fprintf(g.Stdout, "km: set core.askPass, core.hooksPath and credential.useHttpPath for %s in %s\n", s.GitURL, where)
	if in.Proxy != "" {
		fmt.Fprintf(g.Stdout, "km: set http.proxy %s and http.sslCAInfo %s; for other tools:\n", in.Proxy, in.ProxyCA)
		for _, l := range in.ProxyEnv() {
			fmt.Fprintln(g.Stdout, l)
		}
	}
	if len(s.AllowedRefs) > 0 && in.Proxy == "" {
		fmt.Fprintf(g.Stdout, "km: pushes limited to %s (client-side hook; git push --no-verify bypasses it)\n", strings.Join(s.AllowedRefs, ", "))
	} else if len(s.AllowedRefs) > 0 {
		fmt.Fprintf(g.Stdout, "km: pushes limited to %s (enforced by km proxy on the wire; the hook answers first)\n", strings.Join(s.AllowedRefs, ", "))
	}
	return nil
}

// GitAskpassCmd is `km git-askpass PROMPT`, run by git through bin/km-git-askpass.
// The --settings default is sandbox.DefaultSettingsPath.
type GitAskpassCmd struct {
	Settings string `name:"settings" default:"/opt/km/etc/sandbox.json" type:"path" help:"Settings file written by km sandbox init."`
	Prompt   string `arg:"" help:"The prompt git passes (Username for '...': / Password for '...':)."`
}

// Run prints x-access-token or the owner's token, or nothing (exit 1).
func (c *GitAskpassCmd) Run(g *Globals) error {
	s, err := sandbox.ReadSettings(c.Settings)
	if err == nil {
		err = sandbox.Askpass(g.Ctx, s, c.Prompt, openParameters, g.Stdout)
	}
	if err != nil {
		fmt.Fprintf(g.Stderr, "km git-askpass: %v\n", err)
		return ExitError{Code: 1}
	}
	return nil
}

// openParameters connects to SSM through the standard AWS chain.
func openParameters(ctx context.Context, region string) (sandbox.ParameterReader, error) {
	a, err := state.New(ctx, state.Options{Region: region})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// GitPrePushCmd is `km git-pre-push`, run by git through hooks/pre-push.
type GitPrePushCmd struct {
	Settings string   `name:"settings" default:"/opt/km/etc/sandbox.json" type:"path" help:"Settings file written by km sandbox init."`
	Remote   []string `arg:"" optional:"" help:"Remote name and URL, as git passes them (unused)."`
}

// Run refuses the push (exit 1) when a ref is outside the profile's allowedRefs.
func (c *GitPrePushCmd) Run(g *Globals) error {
	s, err := sandbox.ReadSettings(c.Settings)
	if err == nil {
		err = sandbox.PrePush(s, g.Stdin, g.Stderr)
	}
	if errors.Is(err, sandbox.ErrDenied) {
		return ExitError{Code: 1}
	}
	if err != nil {
		fmt.Fprintf(g.Stderr, "[km] pre-push: %v\n", err)
		return ExitError{Code: 1}
	}
	return nil
}
