package proxy

import (
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// UpstreamPool is the system roots plus the certificates in file (PEM), if
// file is not empty: what the proxy verifies GitHub's certificates against.
func UpstreamPool(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if file == "" {
		return pool, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--upstream-ca: %w; pass a PEM file of CA certificates", err)
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--upstream-ca %s holds no PEM certificate; expected one or more -----BEGIN CERTIFICATE----- blocks", file)
	}
	return pool, nil
}

// NewLogger is the decision log: format json (one JSON object per line, for
// CloudWatch and km otel-style tooling) or text (logfmt-style key=value).
func NewLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "json", "":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log %q: expected json or text", format)
}
