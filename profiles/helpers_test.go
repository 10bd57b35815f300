package profiles

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"github.com/klankermaker/km/internal/testkeys"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baseKM is a valid km.yaml used by the catalogue; cases replace it or patch it.
const baseKM = `region: us-east-1
github:
  appClientId: Iv1.abc123
  installations:
    my-user: 12345678
    my-org: 23456789
sandboxes:
  - id: sb-1
    profile: p
    principal: arn:aws:iam::123456789012:role/km-sandbox-sb-1
`

const baseProfile = `apiVersion: klankermaker.ai/v1alpha1
kind: SandboxProfile
metadata:
  name: p
spec:
  network: {egress: open}
  sourceAccess:
    github:
      allowedRepos: [my-user/my-repo, my-org/*]
      allowedRefs: [main, "release/*"]
      permissions: [clone, fetch, push]
`

// writeTree writes files (relative path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// inTempDir makes a temp dir holding files the working directory, so that Load
// sees the relative paths a user would type.
func inTempDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, files)
	t.Chdir(dir)
	return dir
}

func rsaPEM(t *testing.T, pkcs8 bool) []byte { return testkeys.NewPEM(t, pkcs8) }

func ecPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// pemBody returns the base64 lines of a PEM: what must never show up in output.
func pemBody(p []byte) []string {
	var out []string
	for _, l := range strings.Split(string(p), "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

// mustErrors asserts err is an *Errors and returns its list.
func mustErrors(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded, want errors")
	}
	errs, ok := AsErrors(err)
	if !ok {
		t.Fatalf("error is %T (%v), want *Errors", err, err)
	}
	return errs.List
}

func posOf(e *Error) string { return posString(e.Pos) }
