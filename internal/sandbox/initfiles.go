package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Paths of what Init writes, relative to the root folder.
const (
	AskpassRel  = "bin/km-git-askpass"
	HooksRel    = "hooks"
	HookRel     = "hooks/pre-push" // the exact name git runs before a push
	SettingsRel = "etc/sandbox.json"
)

// InitOptions says where Init writes and which binaries the files call.
type InitOptions struct {
	Root      string // the folder to install into (made absolute)
	KM        string // absolute path of the km binary the wrapper and the hook exec
	GitConfig string // git config file to write; empty: git's system config (git config --system)
	Git       string // git executable; empty: "git" from PATH
}

// Installed lists what Init wrote (absolute paths).
type Installed struct {
	Root      string
	Askpass   string
	Hook      string
	Settings  string
	GitConfig string // empty when git's system config was written
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
	for _, kv := range [][2]string{
		{"core.askPass", in.Askpass},
		{"core.hooksPath", filepath.Join(root, HooksRel)},
		{"credential." + hostKey(u) + ".useHttpPath", "true"},
	} {
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

// writeFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so a hook running concurrently sees the old or the new
// file, never half of one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, mode)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
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
