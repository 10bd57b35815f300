// Package version owns what `km version` reports: the module version, the VCS
// commit and the Go version from the binary's build information, and the
// SHA-256 of the refresher deployment package km would upload (found the way
// apply finds it: $KM_REFRESHER_ZIP, else km-refresher.zip beside km). It
// renders that as text or JSON (docs/version.md).
//
// It must not import the AWS SDK, go-github, or any km package but
// internal/lambdazip.
package version

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"strings"

	"github.com/klankermaker/km/internal/lambdazip"
)

// Info is km version's report. The JSON field names are documented in
// docs/version.md and are a stable interface.
type Info struct {
	// Version is the main module's version: a tag such as v1.2.0 for
	// `go install ...@v1.2.0`, "(devel)" for a build from a checkout.
	Version string `json:"version"`
	// Commit is the VCS revision km was built from, or "unknown".
	Commit string `json:"commit"`
	// CommitTime is the revision's commit time (RFC 3339), when known.
	CommitTime string `json:"commitTime,omitempty"`
	// Modified reports a build from a work tree with uncommitted changes.
	Modified bool `json:"modified"`
	// GoVersion is the Go toolchain km was built with.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH of the build.
	Platform string `json:"platform"`
	// Refresher is the deployment package apply would upload.
	Refresher Refresher `json:"refresher"`
}

// Refresher describes the refresher deployment package.
type Refresher struct {
	// Found reports whether the zip was read.
	Found bool `json:"found"`
	// Path is where km looked (the file when found).
	Path string `json:"path"`
	// SHA256 is the hex SHA-256 of the zip (what sha256sum prints).
	SHA256 string `json:"sha256,omitempty"`
	// CodeSha256 is the same digest in base64, as Lambda reports it.
	CodeSha256 string `json:"codeSha256,omitempty"`
	// Size is the zip's size in bytes.
	Size int `json:"size,omitempty"`
	// Error says why the zip was not read, when it was not.
	Error string `json:"error,omitempty"`
}

// Collect builds the report from the build information (nil when the binary
// has none), a commit stamped at link time (used when the build information
// carries no VCS revision; may be empty) and getenv for $KM_REFRESHER_ZIP.
func Collect(bi *debug.BuildInfo, linkedCommit string, getenv func(string) string) Info {
	in := Info{Version: "unknown", Commit: "unknown", GoVersion: "unknown", Platform: "unknown"}
	if bi != nil {
		if bi.Main.Version != "" {
			in.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		var goos, goarch string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.CommitTime = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			case "GOOS":
				goos = s.Value
			case "GOARCH":
				goarch = s.Value
			}
		}
		if goos != "" && goarch != "" {
			in.Platform = goos + "/" + goarch
		}
	}
	if in.Commit == "unknown" && linkedCommit != "" {
		in.Commit = linkedCommit
	}
	zip, path, err := lambdazip.Find(getenv)
	in.Refresher.Path = path
	if err != nil {
		in.Refresher.Error = err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			in.Refresher.Error = "not found"
		}
		return in
	}
	sum := sha256.Sum256(zip)
	in.Refresher = Refresher{Found: true, Path: path, SHA256: hex.EncodeToString(sum[:]), CodeSha256: base64.StdEncoding.EncodeToString(sum[:]), Size: len(zip)}
	return in
}

// WriteText prints the report for people.
func WriteText(w io.Writer, in Info) error {
	var b strings.Builder
	fmt.Fprintf(&b, "km %s\n", in.Version)
	commit := in.Commit
	if in.Modified {
		commit += " (modified)"
	}
	if in.CommitTime != "" {
		commit += " " + in.CommitTime
	}
	fmt.Fprintf(&b, "commit:    %s\n", commit)
	fmt.Fprintf(&b, "go:        %s %s\n", in.GoVersion, in.Platform)
	if in.Refresher.Found {
		fmt.Fprintf(&b, "refresher: %s\n", in.Refresher.Path)
		fmt.Fprintf(&b, "  sha256:  %s\n", in.Refresher.SHA256)
		fmt.Fprintf(&b, "  lambda CodeSha256: %s (%d bytes)\n", in.Refresher.CodeSha256, in.Refresher.Size)
	} else {
		fmt.Fprintf(&b, "refresher: %s (looked for %s; build it with `make build` or set %s)\n", in.Refresher.Error, in.Refresher.Path, lambdazip.EnvVar)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the report as one indented JSON object (docs/version.md).
func WriteJSON(w io.Writer, in Info) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(in)
}
