// Command mkzip wraps a bootstrap binary in the reproducible deployment zip:
//
//	go run ./cmd/mkzip -o bin/km-refresher.zip bin/bootstrap
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/klankermaker/km/internal/lambdazip"
)

func main() {
	out := flag.String("o", "", "output zip")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkzip -o OUT.zip BOOTSTRAP")
		os.Exit(2)
	}
	b, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
	z, err := lambdazip.Zip(b)
	if err == nil {
		err = os.WriteFile(*out, z, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}
