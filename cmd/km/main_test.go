package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"km": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts drives the real km binary through testdata/script/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			// Any AWS or GitHub call would fail loudly: nothing listens here.
			e.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
			e.Setenv("AWS_REGION", "us-east-1")
			e.Setenv("AWS_ACCESS_KEY_ID", "test")
			e.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			e.Setenv("KM_GITHUB_API_URL", "http://127.0.0.1:9")
			e.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
