package pemkey_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/pemkey"
	"github.com/klankermaker/km/internal/testkeys"
)

func TestParse(t *testing.T) {
	t.Parallel()
	rsaKey := testkeys.RSA(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := testkeys.PEM(t, rsaKey, false)
	pkcs8 := testkeys.PEM(t, rsaKey, true)
	// A PKCS#8 body under the PKCS#1 label, as hand conversions leave it.
	mislabelled := bytes.Replace(pkcs8, []byte("BEGIN PRIVATE KEY"), []byte("BEGIN RSA PRIVATE KEY"), 1)
	mislabelled = bytes.Replace(mislabelled, []byte("END PRIVATE KEY"), []byte("END RSA PRIVATE KEY"), 1)
	block, _ := pem.Decode(pkcs1)
	corrupt := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: block.Bytes[:len(block.Bytes)/2]})
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: block.Bytes})

	tests := []struct {
		name string
		in   []byte
		want string // "" = parses to rsaKey
	}{
		{"PKCS#1", pkcs1, ""},
		{"PKCS#8", pkcs8, ""},
		{"PKCS#8 under the PKCS#1 label", mislabelled, ""},
		{"empty", nil, "no PEM block found"},
		{"not PEM", []byte("hello"), "no PEM block found"},
		{"ECDSA", testkeys.PEM(t, ec, true), "the key is ECDSA, not RSA"},
		{"public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), `found a PEM block of type "PUBLIC KEY"`},
		{"encrypted", encrypted, "the key is encrypted"},
		{"encrypted PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "the key is encrypted"},
		{"truncated", corrupt, "neither a PKCS#1 nor a PKCS#8 private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := pemkey.Parse(tc.in)
			if tc.want == "" {
				if err != nil || !k.Equal(rsaKey) {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, pemkey.ErrInvalid) {
				t.Fatalf("Parse error %v, want one containing %q that is ErrInvalid", err, tc.want)
			}
			// The message never repeats the key: no 12-character run of the
			// PEM's body appears in it.
			body := string(tc.in)
			for i := 0; i+12 <= len(body); i += 6 {
				if run := body[i : i+12]; !strings.ContainsAny(run, "\n-") && strings.Contains(err.Error(), run) {
					t.Fatalf("error repeats key material %q", run)
				}
			}
		})
	}
}

// The fingerprint is the one openssl computes (and GitHub shows in the App's
// settings): base64 of SHA-256 of the PKIX DER public key.
func TestFingerprintMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is not installed (%v): apt-get install -y openssl, or run .ci/install-packages.sh", err)
	}
	key := testkeys.NewPEM(t, false)
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", "openssl rsa -in '"+path+"' -pubout -outform DER 2>/dev/null | openssl sha256 -binary | openssl base64").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := pemkey.Fingerprint(key)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SHA256:" + strings.TrimSpace(string(out)); got != want {
		t.Fatalf("Fingerprint = %s, openssl says %s", got, want)
	}
}

func TestFingerprintIsStableAndPublic(t *testing.T) {
	t.Parallel()
	k := testkeys.RSA(t)
	a, err1 := pemkey.Fingerprint(testkeys.PEM(t, k, false))
	b, err2 := pemkey.Fingerprint(testkeys.PEM(t, k, true))
	if err1 != nil || err2 != nil || a != b || len(a) != len("SHA256:")+44 {
		t.Fatalf("fingerprints %q %q (%v %v): want one SHA256:+base64 value for both encodings", a, b, err1, err2)
	}
	if _, err := pemkey.Fingerprint([]byte("nope")); !errors.Is(err, pemkey.ErrInvalid) {
		t.Fatalf("Fingerprint of garbage: %v", err)
	}
}
