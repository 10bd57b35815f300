// Command km-sim runs the local simulators for `make demo`: kumo (AWS, in-process)
// behind a fixed loopback port and the GitHub simulator on another, and writes a
// ready demo declaration plus an env file to source. It stops on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sivchari/kumo"

	"github.com/klankermaker/km/internal/atomicfile"
	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/revproxy"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "km-sim:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "demo", "where to write km.yaml, profiles/, app.pem and env")
	awsAddr := flag.String("aws", "127.0.0.1:4566", "loopback address for the AWS emulator")
	ghAddr := flag.String("github", "127.0.0.1:4567", "loopback address for the GitHub simulator")
	zip := flag.String("zip", "bin/km-refresher.zip", "refresher package km should deploy")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	aws := kumo.NewServer()
	defer aws.Close()
	target, err := url.Parse(aws.URL)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *awsAddr)
	if err != nil {
		return fmt.Errorf("listening on %s for the AWS emulator: %w (is another km-sim running?)", *awsAddr, err)
	}
	proxy := &http.Server{Handler: revproxy.New(target), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = proxy.Serve(ln) }()
	defer proxy.Close()

	sim, err := githubsim.NewOn(*ghAddr)
	if err != nil {
		return fmt.Errorf("starting the GitHub simulator on %s: %w", *ghAddr, err)
	}
	defer sim.Close()

	if err := os.RemoveAll(*dir); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	w, err := demo.Write(sim, *dir, demo.Options{Sandboxes: []string{"sb-7f3a9c", "sb-demo02"}})
	if err != nil {
		return err
	}
	absZip, err := filepath.Abs(*zip)
	if err != nil {
		return err
	}
	env := fmt.Sprintf(`export AWS_ENDPOINT_URL=http://%s
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=demo
export AWS_SECRET_ACCESS_KEY=demo
export KM_GITHUB_API_URL=%s
export KM_GITHUB_WEB_URL=%s
export KM_REFRESHER_ZIP=%s
export KM_CONFIG=%s
`, *awsAddr, sim.URL, sim.URL, absZip, w.ConfigPath)
	// The env file appears last: its presence means "ready".
	if err := atomicfile.Write(filepath.Join(*dir, "env"), []byte(env), 0o644); err != nil {
		return err
	}
	fmt.Printf("km-sim: AWS emulator on http://%s, GitHub simulator on %s\nkm-sim: declaration in %s; source %s\n",
		*awsAddr, sim.URL, w.ConfigPath, filepath.Join(*dir, "env"))
	<-ctx.Done()
	if errors.Is(ctx.Err(), context.Canceled) {
		fmt.Println("km-sim: stopped")
	}
	return nil
}
