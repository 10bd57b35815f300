// Package testkeys makes throwaway RSA keys for tests: the one place km's
// tests generate a GitHub App-style private key. Never import it outside
// _test.go files.
package testkeys

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// RSA returns a fresh 2048-bit RSA key (GitHub App keys are 2048-bit).
func RSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// PEM encodes k as GitHub hands keys out (PKCS#1, "RSA PRIVATE KEY"), or as
// PKCS#8 ("PRIVATE KEY") when pkcs8 is set.
func PEM(t testing.TB, k any, pkcs8 bool) []byte {
	t.Helper()
	if rk, ok := k.(*rsa.PrivateKey); ok && !pkcs8 {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// NewPEM is PEM(t, RSA(t), pkcs8).
func NewPEM(t testing.TB, pkcs8 bool) []byte {
	t.Helper()
	return PEM(t, RSA(t), pkcs8)
}
