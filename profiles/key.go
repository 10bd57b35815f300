package profiles

import (
	"crypto/rsa"

	"github.com/klankermaker/km/internal/pemkey"
)

// ParsePrivateKey parses a GitHub App private key: an RSA key in PEM, PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"), with internal/pemkey. Its
// errors never contain key material.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) { return pemkey.Parse(pemBytes) }

// KeyFingerprint identifies an RSA private key by its public half:
// "SHA256:" + base64 SHA-256 of the PKIX DER public key (the form GitHub
// shows in the App's settings). It reveals nothing secret.
func KeyFingerprint(pemBytes []byte) (string, error) { return pemkey.Fingerprint(pemBytes) }
