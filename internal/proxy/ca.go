package proxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Files of the CA directory.
const (
	CACertFile = "ca.pem"     // the certificate sandbox clients trust (http.sslCAInfo, SSL_CERT_FILE)
	CAKeyFile  = "ca-key.pem" // the key, mode 0600, readable only by the proxy's user
)

const (
	caValidity   = 5 * 365 * 24 * time.Hour
	leafValidity = 7 * 24 * time.Hour
)

// CA is the sandbox's interception CA and its in-memory cache of leaf
// certificates, one per host name.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
	now  func() time.Time

	mu    sync.Mutex
	leafs map[string]*tls.Certificate
}

// CertPEM is the CA certificate in PEM.
func (c *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
}

// Certificate is the CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// LoadOrCreateCA reads the CA from dir, or creates it there on first start:
// dir with mode 0700, ca-key.pem 0600, ca.pem 0644. A key file readable by
// group or others is refused.
func LoadOrCreateCA(dir string, now func() time.Time) (*CA, error) {
	if now == nil {
		now = time.Now
	}
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return createCA(dir, certPath, keyPath, now)
	case certErr != nil || keyErr != nil:
		return nil, fmt.Errorf("the proxy CA in %s is incomplete (%v; %v): keep both %s and %s, or remove both to create a new CA (sandboxes must then trust the new %s)",
			dir, certErr, keyErr, CACertFile, CAKeyFile, CACertFile)
	}
	st, err := os.Stat(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading the proxy CA key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the proxy CA key %s has mode %04o: it must be readable only by the proxy's user; run chmod 600 %s", keyPath, st.Mode().Perm(), keyPath)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("loading the proxy CA from %s: %w; remove %s and %s to create a new one", dir, err, CACertFile, CAKeyFile)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate (%v); remove it and %s to create a new CA", certPath, err, CAKeyFile)
	}
	if now().After(cert.NotAfter) {
		return nil, fmt.Errorf("the proxy CA %s expired on %s; remove it and %s to create a new one", certPath, cert.NotAfter.Format(time.RFC3339), CAKeyFile)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("the proxy CA key in %s cannot sign", keyPath)
	}
	return &CA{cert: cert, key: key, now: now, leafs: map[string]*tls.Certificate{}}, nil
}

func createCA(dir, certPath, keyPath string, now func() time.Time) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the proxy CA directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the proxy CA key: %w", err)
	}
	serial, err := randSerial()
	if err != nil {
		return nil, err
	}
	t := now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "km proxy sandbox CA", Organization: []string{"km"}},
		NotBefore:             t.Add(-time.Hour),
		NotAfter:              t.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating the proxy CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the proxy CA key: %w", err)
	}
	if err := writeExclusive(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	if err := writeExclusive(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		os.Remove(keyPath)
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, now: now, leafs: map[string]*tls.Certificate{}}, nil
}

// writeExclusive creates path with mode (never overwriting), so two proxies
// starting at once cannot mix two CAs.
func writeExclusive(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func randSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a certificate serial: %w", err)
	}
	return n, nil
}

// Leaf returns the certificate for host (a name or an IP, without port),
// from the cache while it has more than a day left.
func (c *CA) Leaf(host string) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.leafs[host]; ok && c.now().Add(24*time.Hour).Before(l.Leaf.NotAfter) {
		return l, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a leaf key for %s: %w", host, err)
	}
	serial, err := randSerial()
	if err != nil {
		return nil, err
	}
	t := c.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    t.Add(-time.Hour),
		NotAfter:     t.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(c.cert.NotAfter) {
		tmpl.NotAfter = c.cert.NotAfter
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("signing a leaf certificate for %s: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	l := &tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key, Leaf: leaf}
	c.leafs[host] = l
	return l, nil
}

// CachedLeafs is the number of leaf certificates in the cache.
func (c *CA) CachedLeafs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.leafs)
}
