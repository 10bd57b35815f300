// Command kmhelper stands in for cmd/km in internal/sandbox's end-to-end tests
// while cmd/km does not compile. It wires `sandbox init`, `git-askpass` and
// `git-pre-push` exactly as cmd/km/sandbox.go does (same flags, same calls,
// same exit codes). The tests prefer the real cmd/km whenever it builds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/klankermaker/km/internal/sandbox"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/state"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	ctx := context.Background()
	top := flag.NewFlagSet("km", flag.ContinueOnError)
	config := top.String("config", envOr("KM_CONFIG", "km.yaml"), "km.yaml")
	if top.Parse(args) != nil || top.NArg() == 0 {
		return 1
	}
	args = top.Args()
	switch {
	case len(args) >= 2 && args[0] == "sandbox" && args[1] == "init":
		fs := flag.NewFlagSet("init", flag.ContinueOnError)
		id := fs.String("sandbox-id", "", "")
		root := fs.String("root", "", "")
		gitConfig := fs.String("git-config", "", "")
		if fs.Parse(args[2:]) != nil {
			return 1
		}
		if err := initCmd(ctx, *config, *id, *root, *gitConfig); err != nil {
			fmt.Fprintf(os.Stderr, "Error: %v\n", err)
			return 1
		}
		return 0
	case args[0] == "git-askpass":
		fs := flag.NewFlagSet("git-askpass", flag.ContinueOnError)
		settings := fs.String("settings", sandbox.DefaultSettingsPath, "")
		if fs.Parse(args[1:]) != nil || fs.NArg() != 1 {
			return 1
		}
		s, err := sandbox.ReadSettings(*settings)
		if err == nil {
			err = sandbox.Askpass(ctx, s, fs.Arg(0), open, os.Stdout)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "km git-askpass: %v\n", err)
			return 1
		}
		return 0
	case args[0] == "git-pre-push":
		fs := flag.NewFlagSet("git-pre-push", flag.ContinueOnError)
		settings := fs.String("settings", sandbox.DefaultSettingsPath, "")
		if fs.Parse(args[1:]) != nil {
			return 1
		}
		s, err := sandbox.ReadSettings(*settings)
		if err == nil {
			err = sandbox.PrePush(s, os.Stdin, os.Stderr)
		}
		if err != nil && !errors.Is(err, sandbox.ErrDenied) {
			fmt.Fprintf(os.Stderr, "[km] pre-push: %v\n", err)
		}
		if err != nil {
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "kmhelper: unknown command %q\n", args)
	return 1
}

func initCmd(ctx context.Context, config, id, root, gitConfig string) error {
	cfg, err := profiles.Load(config)
	if err != nil {
		return err
	}
	cfg.ApplyEnv(os.Getenv)
	s, err := sandbox.SettingsFor(cfg, id)
	if err != nil {
		return err
	}
	km, err := os.Executable()
	if err != nil {
		return err
	}
	_, err = sandbox.Init(ctx, s, sandbox.InitOptions{Root: root, KM: km, GitConfig: gitConfig})
	return err
}

func open(ctx context.Context, region string) (sandbox.ParameterReader, error) {
	a, err := state.New(ctx, state.Options{Region: region})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
