package profiles

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePrivateKey parses a GitHub App private key: an RSA key in PEM, PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). Its errors never contain key material.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found; expected the .pem file downloaded from the GitHub App's settings (an RSA private key in PEM form)")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, errors.New("the PEM key is encrypted; expected an unencrypted key as GitHub issues it")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the RSA PRIVATE KEY block does not parse as a PKCS#1 RSA key; the file may be truncated or corrupted, download a new key from the App's settings")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the PRIVATE KEY block does not parse as a PKCS#8 key; the file may be truncated or corrupted, download a new key from the App's settings")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the PKCS#8 key is %s, not RSA; GitHub Apps sign with RSA keys", keyKind(k))
		}
		return rk, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the PEM key is encrypted; expected an unencrypted key as GitHub issues it")
	default:
		return nil, fmt.Errorf("found a PEM block of type %q; expected \"RSA PRIVATE KEY\" (PKCS#1) or \"PRIVATE KEY\" (PKCS#8)", block.Type)
	}
}

func keyKind(k any) string { return fmt.Sprintf("a %T", k) }

// KeyFingerprint identifies an RSA private key by its public half:
// "SHA256:" + hex SHA-256 of the PKIX DER public key. It reveals nothing secret.
func KeyFingerprint(pemBytes []byte) (string, error) {
	k, err := ParsePrivateKey(pemBytes)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", fmt.Errorf("encoding the public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:]), nil
}
