package main

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/klankermaker/km/internal/proxy"
	"github.com/klankermaker/km/internal/sandbox"
)

// ProxyCmd is `km proxy`: the sandbox's GitHub-aware egress proxy.
type ProxyCmd struct {
	Settings   string `name:"settings" default:"/opt/km/etc/sandbox.json" type:"path" help:"Settings file written by km sandbox init."`
	Listen     string `name:"listen" default:"127.0.0.1:3128" help:"Address to listen on (HOST:PORT)."`
	CADir      string `name:"ca-dir" type:"path" help:"Folder of the interception CA (created on first start; default: etc/proxy-ca next to the settings file)."`
	UpstreamCA string `name:"upstream-ca" type:"path" help:"PEM CA certificates trusted for GitHub besides the system roots (GHES, the simulator)."`
	Log        string `name:"log" enum:"json,text" default:"json" help:"Decision log format on stderr: json or text."`
}

// Run serves until SIGTERM or SIGINT.
func (c *ProxyCmd) Run(g *Globals) error {
	s, err := sandbox.ReadSettings(c.Settings)
	if err != nil {
		return err
	}
	policy, err := proxy.NewPolicy(proxy.Config{
		SandboxID: s.SandboxID, WebURL: s.GitURL, APIURL: s.APIURL, AllowedRepos: s.AllowedRepos,
		AllowedRefs: s.AllowedRefs, Push: s.Push, AllowedEndpoints: s.AllowedEndpoints,
	})
	if err != nil {
		return fmt.Errorf("km sandbox settings %s: %w", c.Settings, err)
	}
	roots, err := proxy.UpstreamPool(c.UpstreamCA)
	if err != nil {
		return err
	}
	log, err := proxy.NewLogger(c.Log, g.Stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("km proxy: listening on %s: %w; choose a free address with --listen", c.Listen, err)
	}
	caDir := c.CADir
	if caDir == "" {
		caDir = filepath.Join(filepath.Dir(c.Settings), filepath.Base(sandbox.ProxyCARel))
	}
	ca, err := proxy.LoadOrCreateCA(caDir, nil)
	if err != nil {
		ln.Close()
		return err
	}
	srv, err := proxy.NewServer(proxy.Options{Policy: policy, CA: ca, UpstreamRoots: roots, Log: log})
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(g.Stdout, "km proxy: listening on %s\n", ln.Addr())
	return srv.Serve(g.Ctx, ln)
}
