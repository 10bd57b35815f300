// Command km reconciles the AWS side of km's GitHub token broker and serves the
// sandbox's git helpers. This package only wires flags to packages: no logic lives here.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/willabides/kongplete"
)

// Globals are the flags and streams every command sees.
type Globals struct {
	Config string `name:"config" env:"KM_CONFIG" default:"km.yaml" help:"Path of km.yaml."`

	Ctx    context.Context `kong:"-"`
	Stdin  io.Reader       `kong:"-"`
	Stdout io.Writer       `kong:"-"`
	Stderr io.Writer       `kong:"-"`
}

// CLI is km's command tree.
type CLI struct {
	Globals

	Validate    ValidateCmd    `cmd:"" help:"Check km.yaml and profiles without calling AWS or GitHub."`
	Plan        PlanCmd        `cmd:"" help:"Read live state and show the change set."`
	Apply       ApplyCmd       `cmd:"" help:"Apply the change set (or a saved plan file)."`
	Show        ShowCmd        `cmd:"" help:"Render a saved plan file."`
	ForceUnlock ForceUnlockCmd `cmd:"" name:"force-unlock" help:"Release a stuck state lock."`
	Create      CreateCmd      `cmd:"" help:"Add a sandbox to km.yaml and apply only its resources."`
	Destroy     DestroyCmd     `cmd:"" help:"Revoke a sandbox's tokens and remove its resources."`
	List        ListCmd        `cmd:"" help:"List sandboxes with token age, owners and status."`
	Refresh     RefreshCmd     `cmd:"" help:"Fire a sandbox's refresh now: invoke the refresher with its schedule's input."`
	Github      GithubCmd      `cmd:"" name:"github" help:"Create the GitHub App with the manifest flow."`
	Configure   ConfigureCmd   `cmd:"" help:"Update km.yaml and apply the config slice."`
	Doctor      DoctorCmd      `cmd:"" help:"Run health checks and print the fix for each failure."`
	Otel        OtelCmd        `cmd:"" help:"Show the refresher's log events for one sandbox."`
	Comment     CommentCmd     `cmd:"" help:"Post or update the sticky plan comment on a pull request."`
	Sandbox     SandboxCmd     `cmd:"" help:"Commands run inside a sandbox."`
	GitAskpass  GitAskpassCmd  `cmd:"" name:"git-askpass" help:"GIT_ASKPASS helper (called by git)."`
	GitPrePush  GitPrePushCmd  `cmd:"" name:"git-pre-push" help:"pre-push hook (called by git)."`
	Version     VersionCmd     `cmd:"" help:"Print km's version, commit, Go version and the refresher package's SHA-256."`
	Completion  CompletionCmd  `cmd:"" help:"Print the shell completion script for bash, zsh or fish."`
	Proxy       ProxyCmd       `cmd:"" help:"GitHub-aware egress proxy for one sandbox: allowedRepos and allowedRefs enforced on the wire."`
}

// ExitError carries an exit code without printing anything more.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cli CLI
	cli.Ctx, cli.Stdin, cli.Stdout, cli.Stderr = ctx, stdin, stdout, stderr
	exitCode := -1
	parser, err := kong.New(&cli,
		kong.Name("km"),
		kong.Description("Scoped, short-lived GitHub tokens for sandboxes; AWS side reconciled from YAML."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exitCode = code }),
		kong.UsageOnError(),
	)
	if err != nil {
		fmt.Fprintf(stderr, "km: %v\n", err)
		return 1
	}
	// Shell completion: when the shell runs km with COMP_LINE set, answer
	// from the command tree and stop (see km completion).
	kongplete.Complete(parser, kongplete.WithExitFunc(func(code int) { exitCode = code }),
		kongplete.WithErrorHandler(func(err error) { fmt.Fprintf(stderr, "km: completion: %v\n", err) }))
	if exitCode >= 0 {
		return exitCode
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "km: %v\n", err)
		return 1
	}
	err = kctx.Run(&cli.Globals)
	if exitCode >= 0 {
		return exitCode
	}
	var ee ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}
