// Package lambdazip builds and locates the refresher's deployment package: a zip
// holding one file, bootstrap, written reproducibly (fixed timestamp, mode and
// order) so the same binary always yields the same bytes and the same CodeSha256.
// It imports nothing from km.
package lambdazip

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FileName is the package's name beside the km binary.
const FileName = "km-refresher.zip"

// EnvVar overrides where km looks for the package.
const EnvVar = "KM_REFRESHER_ZIP"

// epoch is the timestamp of every entry (zip's earliest representable date).
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Zip wraps a bootstrap executable in a deterministic zip.
func Zip(bootstrap []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: epoch}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bootstrap); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Find returns the deployment package: $KM_REFRESHER_ZIP, else km-refresher.zip
// beside the running executable.
func Find(getenv func(string) string) ([]byte, string, error) {
	path := getenv(EnvVar)
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, "", fmt.Errorf("locating the km binary: %w", err)
		}
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		path = filepath.Join(filepath.Dir(exe), FileName)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, path, fmt.Errorf("the refresher deployment package %s is missing (%w); build it with `make build`, or set %s to its path", path, err, EnvVar)
	}
	return b, path, nil
}
