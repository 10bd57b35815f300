package githubsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// NewTLS starts a simulator serving HTTPS on 127.0.0.1 on a random port, with
// a certificate for 127.0.0.1 and localhost signed by a CA of its own (fresh
// for every server). URL is https://127.0.0.1:PORT; CACertPEM returns the CA
// for clients (git's http.sslCAInfo, km proxy --upstream-ca). Like New it
// panics if the server cannot be set up.
func NewTLS(opts ...Option) *Server {
	s, err := newServer(opts)
	if err != nil {
		panic(fmt.Sprintf("githubsim: %v", err))
	}
	caPEM, leaf, err := simCertificates()
	if err != nil {
		s.removeGitRoot()
		panic(fmt.Sprintf("githubsim: %v", err))
	}
	s.caPEM = caPEM
	s.hs = httptest.NewUnstartedServer(s)
	s.hs.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	s.hs.Config.ErrorLog = log.New(io.Discard, "", 0) // clients that do not trust the CA are expected
	s.hs.StartTLS()
	s.URL = s.hs.URL
	return s
}

// NewOnTLS is NewOn serving HTTPS with a certificate for 127.0.0.1, ::1 and
// localhost signed by the server's own CA (CACertPEM), for a demo or an
// acceptance harness that runs km proxy with --upstream-ca.
func NewOnTLS(addr string, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	caPEM, leaf, err := simCertificates()
	if err != nil {
		s.removeGitRoot()
		return nil, err
	}
	ln, hostPort, err := s.listen(addr)
	if err != nil {
		return nil, err
	}
	s.caPEM = caPEM
	s.URL = "https://" + hostPort
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	tl := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12})
	go func() { _ = s.srv.Serve(tl) }()
	return s, nil
}

// CACertPEM is the PEM certificate of the CA that signed a NewTLS server's
// certificate; nil for plain-HTTP servers.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.caPEM...) }

// simCertificates makes a CA and a leaf for 127.0.0.1, ::1 and localhost.
func simCertificates() ([]byte, tls.Certificate, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("generating the simulator CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "githubsim test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("creating the simulator CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("generating the simulator key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("signing the simulator certificate: %w", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, nil
}
