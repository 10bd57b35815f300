// Package pemkey parses a GitHub App private key (an RSA key in PEM form,
// PKCS#1 or PKCS#8) and fingerprints it. It is the one parser km has: the
// declaration loader (profiles), the GitHub client (githubapp), setup and the
// refresher all use it. Its errors describe the key's form and never repeat
// any byte of it. It imports nothing from km, AWS or GitHub.
package pemkey

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error Parse returns.
var ErrInvalid = errors.New("invalid GitHub App private key")

type parseError struct{ msg string }

func (e *parseError) Error() string        { return e.msg }
func (e *parseError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &parseError{msg: fmt.Sprintf(format, args...)}
}

// Parse parses a GitHub App private key: PKCS#1 ("RSA PRIVATE KEY", what
// GitHub hands out) or PKCS#8 ("PRIVATE KEY"). Both encodings are tried
// whatever the block's label says: keys converted by hand sometimes carry
// the wrong one.
func Parse(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, invalid("no PEM block found; expected the .pem file GitHub generated for the App (an RSA private key in PEM form)")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || strings.Contains(block.Type, "ENCRYPTED") {
		return nil, invalid("the key is encrypted; use the unencrypted .pem file GitHub generated for the App")
	}
	switch block.Type {
	case "RSA PRIVATE KEY", "PRIVATE KEY":
	default:
		return nil, invalid(`found a PEM block of type %q; expected "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8), the .pem file GitHub generated for the App`, block.Type)
	}
	// The x509 parsers' own messages are not repeated: they describe the
	// key's structure.
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return check(key)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, invalid("the PEM block is neither a PKCS#1 nor a PKCS#8 private key; the file may be truncated or corrupted: generate a new private key in the App's settings")
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, invalid("the key is %s, not RSA; GitHub App keys are RSA", algorithm(parsed))
	}
	return check(key)
}

func check(key *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	if err := key.Validate(); err != nil {
		return nil, invalid("the RSA key is inconsistent; generate a new private key in the App's settings")
	}
	return key, nil
}

func algorithm(k any) string {
	name := fmt.Sprintf("%T", k)
	switch {
	case strings.Contains(name, "ecdsa"):
		return "ECDSA"
	case strings.Contains(name, "ed25519"):
		return "Ed25519"
	case strings.Contains(name, "ecdh"):
		return "ECDH"
	}
	return name
}

// Fingerprint returns "SHA256:" + base64(sha256(PKIX DER of the public key)),
// the key's stable identity without revealing it. It is what GitHub shows
// next to each private key in the App's settings (`openssl rsa -in KEY.pem
// -pubout -outform DER | openssl sha256 -binary | openssl base64`).
func Fingerprint(data []byte) (string, error) {
	key, err := Parse(data)
	if err != nil {
		return "", err
	}
	return PublicFingerprint(&key.PublicKey)
}

// PublicFingerprint is Fingerprint for an already parsed public key.
func PublicFingerprint(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("fingerprint of the App public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:]), nil
}
