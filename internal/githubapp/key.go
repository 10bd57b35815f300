package githubapp

import (
	"crypto/rsa"
	"errors"

	"github.com/klankermaker/km/internal/pemkey"
)

// ErrInvalidKey is matched (errors.Is) by every error ParsePrivateKey returns.
var ErrInvalidKey = errors.New("invalid GitHub App private key")

// ParsePrivateKey parses a GitHub App private key in PEM form, PKCS#1
// ("RSA PRIVATE KEY", what GitHub hands out) or PKCS#8 ("PRIVATE KEY"), with
// internal/pemkey. Its errors describe what is wrong without repeating any
// byte of the key.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	key, err := pemkey.Parse(data)
	if err != nil {
		return nil, keyError(err.Error())
	}
	return key, nil
}

type keyErr struct{ msg string }

func keyError(msg string) error        { return &keyErr{msg: msg} }
func (e *keyErr) Error() string        { return "GitHub App private key: " + e.msg }
func (e *keyErr) Is(target error) bool { return target == ErrInvalidKey }

// KeyFingerprint returns "SHA256:" + base64(sha256(PKIX DER of the public
// key)) (see pemkey.Fingerprint), the value GitHub shows next to each
// private key in the App's settings.
func KeyFingerprint(data []byte) (string, error) {
	key, err := ParsePrivateKey(data)
	if err != nil {
		return "", err
	}
	return pemkey.PublicFingerprint(&key.PublicKey)
}

// PublicKeyFingerprint is KeyFingerprint for an already parsed public key.
func PublicKeyFingerprint(pub *rsa.PublicKey) (string, error) {
	return pemkey.PublicFingerprint(pub)
}
