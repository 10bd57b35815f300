package githubapp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"github.com/klankermaker/km/internal/testkeys"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func pkcs1PEM(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func newRSAKey(t *testing.T) *rsa.PrivateKey { return testkeys.RSA(t) }

// assertNoKeyMaterial fails if msg holds any 12-character run of the PEM's
// base64 body or its header.
func assertNoKeyMaterial(t *testing.T, msg string, pemBytes []byte) {
	t.Helper()
	if strings.Contains(msg, "-----BEGIN") {
		t.Errorf("message contains a PEM header: %s", msg)
	}
	body := strings.ReplaceAll(string(pemBytes), "\n", "")
	for i := 0; i+12 <= len(body); i += 6 {
		chunk := body[i : i+12]
		if strings.Contains(chunk, "-----") || strings.Contains(chunk, " ") {
			continue
		}
		if strings.Contains(msg, chunk) {
			t.Fatalf("message contains key material %q: %s", chunk, msg)
		}
	}
}

func TestParsePrivateKey(t *testing.T) {
	key := newRSAKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good1, good8 := pkcs1PEM(t, key), pkcs8PEM(t, key)
	mislabelled := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	// A key block whose body is corrupted half way: the parser must not echo it.
	der := x509.MarshalPKCS1PrivateKey(key)
	der[len(der)/2] ^= 0xff
	der[len(der)/2+1] ^= 0xff
	der[20] ^= 0x55
	corrupt := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{
		"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF"}, Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustPKIX(t, &key.PublicKey)})

	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"pkcs1", good1, ""},
		{"pkcs8", good8, ""},
		{"pkcs1 labelled as pkcs8", mislabelled, ""},
		{"leading text", append([]byte("key for my app\n"), good1...), ""},
		{"empty", nil, "no PEM block"},
		{"not pem", []byte("ghs_notakeyatall"), "no PEM block"},
		{"public key", pub, `found a PEM block of type "PUBLIC KEY"; expected "RSA PRIVATE KEY"`},
		{"ecdsa", pkcs8PEM(t, ec), "ECDSA, not RSA"},
		{"corrupt", corrupt, "neither a PKCS#1 nor a PKCS#8"},
		{"encrypted", encrypted, "encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKey(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParsePrivateKey: %v", err)
				}
				if !got.Equal(key) {
					t.Fatal("parsed key differs from the generated one")
				}
				return
			}
			if err == nil {
				t.Fatalf("ParsePrivateKey succeeded, want error containing %q", tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("errors.Is(err, ErrInvalidKey) = false for %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			assertNoKeyMaterial(t, err.Error(), tt.in)
		})
	}
}

func mustPKIX(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestKeyFingerprintMatchesOpenSSL checks the fingerprint against GitHub's
// documented recipe, run with the openssl binary.
func TestKeyFingerprintMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is needed to cross-check the fingerprint: apt-get install openssl")
	}
	key := newRSAKey(t)
	p1 := pkcs1PEM(t, key)
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, p1, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", "openssl rsa -in '"+path+"' -pubout -outform DER 2>/dev/null | openssl sha256 -binary | openssl base64").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "SHA256:" + strings.TrimSpace(string(out))

	for name, in := range map[string][]byte{"pkcs1": p1, "pkcs8": pkcs8PEM(t, key)} {
		got, err := KeyFingerprint(in)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: KeyFingerprint = %s, openssl says %s", name, got, want)
		}
	}
	other, err := KeyFingerprint(pkcs1PEM(t, newRSAKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	if other == want {
		t.Error("two different keys have the same fingerprint")
	}
	if _, err := KeyFingerprint([]byte("garbage")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("KeyFingerprint(garbage) error = %v, want ErrInvalidKey", err)
	}
}
