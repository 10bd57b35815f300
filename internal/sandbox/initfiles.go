package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/klankermaker/km/internal/atomicfile"
)

// Paths of what Init writes, relative to the root folder.
const (
	AskpassRel  = "bin/km-git-askpass"
	HooksRel    = "hooks"
	HookRel     = "hooks/pre-push" // the exact name git runs before a push
	SettingsRel = "etc/sandbox.json"
	// ProxyCARel is km proxy's default --ca-dir next to the settings file; its
	// ca.pem is what git trusts when init points git at the proxy.
	ProxyCARel = "etc/proxy-ca"
)

// InitOptions says where Init writes and which binaries the files call.
type InitOptions struct {
	Root      string // the folder to install into (made absolute)
	KM        string // absolute path of the km binary the wrapper and the hook exec
	GitConfig string // git config file to write; empty: git's system config (git config --system)
	Git       string // git executable; empty: "git" from PATH
	// Proxy is km proxy's URL (http://HOST:PORT); empty: no proxy. Required when
	// the profile's spec.network.enforcement is proxy.
	Proxy string
	// ProxyCA is the proxy CA certificate git trusts (http.sslCAInfo); empty:
	// ROOT/etc/proxy-ca/ca.pem, where km proxy --settings ROOT/etc/sandbox.json
	// creates it.
	ProxyCA string
}

// Installed lists what Init wrote (absolute paths).
type Installed struct {
	Root      string
	Askpass   string
	Hook      string
	Settings  string
	GitConfig string // empty when git's system config was written
	Proxy     string // the proxy git was pointed at; empty without --proxy
	ProxyCA   string // the CA file git trusts for the proxy (absolute)
}

// ProxyEnv is what other tools in the sandbox need to use the proxy, one
// NAME=value per line: HTTPS_PROXY, HTTP_PROXY and SSL_CERT_FILE; nil without
// a proxy.
func (in Installed) ProxyEnv() []string {
	if in.Proxy == "" {
		return nil
	}
	return []string{"HTTPS_PROXY=" + in.Proxy, "HTTP_PROXY=" + in.Proxy, "SSL_CERT_FILE=" + in.ProxyCA}
}

// CheckProxyURL checks a --proxy value: http://HOST:PORT (km proxy speaks plain
// HTTP to its clients and intercepts HTTPS through CONNECT).
func CheckProxyURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--proxy %q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" || u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return fmt.Errorf("--proxy %q: expected http://HOST:PORT, the address km proxy --listen prints", raw)
	}
	return nil
}

// Init writes the askpass wrapper, the pre-push hook and the settings file under
// opt.Root, then sets core.askPass, core.hooksPath and
// credential.<git host>.useHttpPath=true in opt.GitConfig. It is idempotent:
// running it again rewrites the files (atomically) and the settings.
func Init(ctx context.Context, s Settings, opt InitOptions) (Installed, error) {
	if err := s.Validate(); err != nil {
		return Installed{}, fmt.Errorf("sandbox settings: %w", err)
	}
	if !filepath.IsAbs(opt.KM) {
		return Installed{}, fmt.Errorf("km binary path %q must be absolute: the wrapper and the hook run from any folder", opt.KM)
	}
	root, err := filepath.Abs(opt.Root)
	if err != nil {
		return Installed{}, fmt.Errorf("sandbox root %q: %w", opt.Root, err)
	}
	in := Installed{
		Root:     root,
		Askpass:  filepath.Join(root, AskpassRel),
		Hook:     filepath.Join(root, HookRel),
		Settings: filepath.Join(root, SettingsRel),
	}
	if s.Enforcement == "proxy" && opt.Proxy == "" {
		return Installed{}, fmt.Errorf("profile %s sets spec.network.enforcement: proxy, so git must go through km proxy: pass --proxy http://HOST:PORT (the address km proxy listens on)", s.Profile)
	}
	if opt.Proxy != "" {
		if err := CheckProxyURL(opt.Proxy); err != nil {
			return Installed{}, err
		}
		in.Proxy = strings.TrimRight(opt.Proxy, "/")
		in.ProxyCA = filepath.Join(root, ProxyCARel, "ca.pem")
		if opt.ProxyCA != "" {
			if in.ProxyCA, err = filepath.Abs(opt.ProxyCA); err != nil {
				return Installed{}, fmt.Errorf("proxy CA %q: %w", opt.ProxyCA, err)
			}
		}
	}
	if opt.GitConfig != "" {
		if in.GitConfig, err = filepath.Abs(opt.GitConfig); err != nil {
			return Installed{}, fmt.Errorf("git config file %q: %w", opt.GitConfig, err)
		}
	}
	files := []struct {
		path string
		mode os.FileMode
		data []byte
	}{
		{in.Settings, 0o644, s.Encode()},
		{in.Askpass, 0o755, wrapperScript("git's askpass (core.askPass) for sandbox "+s.SandboxID+".\n# It holds no secret: km reads the token from SSM each time git asks.",
			opt.KM, "git-askpass", in.Settings)},
		{in.Hook, 0o755, wrapperScript("git's pre-push hook (core.hooksPath) for sandbox "+s.SandboxID+".\n# It refuses pushes to refs outside the profile's allowedRefs (client-side only).",
			opt.KM, "git-pre-push", in.Settings)},
	}
	for _, f := range files {
		if err := writeFileAtomic(f.path, f.data, f.mode); err != nil {
			return Installed{}, err
		}
	}
	u, err := url.Parse(s.GitURL)
	if err != nil {
		return Installed{}, fmt.Errorf("gitURL in the settings: %w", err)
	}
	settings := [][2]string{
		{"core.askPass", in.Askpass},
		{"core.hooksPath", filepath.Join(root, HooksRel)},
		{"credential." + hostKey(u) + ".useHttpPath", "true"},
	}
	if in.Proxy != "" {
		settings = append(settings, [2]string{"http.proxy", in.Proxy}, [2]string{"http.sslCAInfo", in.ProxyCA})
	}
	for _, kv := range settings {
		if err := gitConfigSet(ctx, opt.Git, in.GitConfig, kv[0], kv[1]); err != nil {
			return Installed{}, err
		}
	}
	return in, nil
}

// wrapperScript is a /bin/sh script that execs km with the settings path; the
// caller's arguments (the prompt, or the remote name and URL) follow "--".
func wrapperScript(what, km, sub, settings string) []byte {
	return []byte("#!/bin/sh\n# Written by km sandbox init: " + what + "\n" +
		"exec " + shellQuote(km) + " " + sub + " --settings " + shellQuote(settings) + " -- \"$@\"\n")
}

// shellQuote single-quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeFileAtomic creates path's folder and writes data through
// atomicfile.Write, so a hook running concurrently sees the old or the new
// file, never half of one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	return atomicfile.Write(path, data, mode)
}

// gitConfigSet runs `git config --file FILE --replace-all KEY VALUE` (or
// --system when file is empty), so repeated runs leave exactly one value.
func gitConfigSet(ctx context.Context, git, file, key, value string) error {
	if git == "" {
		git = "git"
	}
	args := []string{"config"}
	where := "git's system config"
	if file != "" {
		args = append(args, "--file", file)
		where = file
	} else {
		args = append(args, "--system")
	}
	args = append(args, "--replace-all", key, value)
	cmd := exec.CommandContext(ctx, git, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("setting %s in %s (git %s): %w: %s; pass --git-config FILE to write another file",
			key, where, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
