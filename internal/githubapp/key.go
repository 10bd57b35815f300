package githubapp

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

// ErrInvalidKey is matched (errors.Is) by every error ParsePrivateKey returns.
var ErrInvalidKey = errors.New("invalid GitHub App private key")

// ParsePrivateKey parses a GitHub App private key in PEM form, PKCS#1
// ("RSA PRIVATE KEY", what GitHub hands out) or PKCS#8 ("PRIVATE KEY").
// Its errors describe what is wrong without repeating any byte of the key.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, keyError("no PEM block found; expected the .pem file GitHub generated for the App (an RSA private key in PEM form)")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || strings.Contains(block.Type, "ENCRYPTED") {
		return nil, keyError("the key is encrypted; use the unencrypted .pem file GitHub generated for the App")
	}
	switch block.Type {
	case "RSA PRIVATE KEY", "PRIVATE KEY":
	default:
		return nil, keyError(fmt.Sprintf("PEM block is %q, not a private key; expected the .pem file GitHub generated for the App", block.Type))
	}
	// Try both encodings whatever the block says: keys converted by hand
	// sometimes carry the wrong label. The parsers' own messages are not
	// repeated: they describe the key's structure.
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return checkKey(key)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, keyError("the PEM block is neither a PKCS#1 nor a PKCS#8 private key; generate a new private key in the App's settings")
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, keyError(fmt.Sprintf("the key is %s, not RSA; GitHub App keys are RSA", keyAlgorithm(parsed)))
	}
	return checkKey(key)
}

func checkKey(key *rsa.PrivateKey) (*rsa.PrivateKey, error) {
	if err := key.Validate(); err != nil {
		return nil, keyError("the RSA key is inconsistent; generate a new private key in the App's settings")
	}
	return key, nil
}

func keyAlgorithm(k any) string {
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

type keyErr struct{ msg string }

func keyError(msg string) error        { return &keyErr{msg: msg} }
func (e *keyErr) Error() string        { return "GitHub App private key: " + e.msg }
func (e *keyErr) Is(target error) bool { return target == ErrInvalidKey }

// KeyFingerprint returns "SHA256:" + base64(sha256(PKIX DER of the public
// key)), the stable identity of the key without revealing it. It is the value
// GitHub shows next to each private key in the App's settings (the output of
// `openssl rsa -in KEY.pem -pubout -outform DER | openssl sha256 -binary |
// openssl base64`).
func KeyFingerprint(data []byte) (string, error) {
	key, err := ParsePrivateKey(data)
	if err != nil {
		return "", err
	}
	return PublicKeyFingerprint(&key.PublicKey)
}

// PublicKeyFingerprint is KeyFingerprint for an already parsed public key.
func PublicKeyFingerprint(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("fingerprint of the App public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:]), nil
}
