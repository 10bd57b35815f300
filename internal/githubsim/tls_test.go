package githubsim

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
)

// TestNewTLS: the TLS simulator is trusted with its exported CA and only with it.
func TestNewTLS(t *testing.T) {
	s := NewTLS()
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL = %s, want https://127.0.0.1:PORT", s.URL)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatalf("CACertPEM is not a PEM certificate: %q", s.CACertPEM())
	}
	trusted := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := trusted.Get(s.URL + "/rate_limit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /rate_limit = %d", resp.StatusCode)
	}
	untrusted := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	if _, err := untrusted.Get(s.URL + "/rate_limit"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA connected: %v", err)
	}
	plain := New()
	defer plain.Close()
	if plain.CACertPEM() != nil {
		t.Error("a plain-HTTP simulator has a CA")
	}
	on, err := NewOnTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer on.Close()
	pool2 := x509.NewCertPool()
	pool2.AppendCertsFromPEM(on.CACertPEM())
	c2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool2}}}
	if !strings.HasPrefix(on.URL, "https://127.0.0.1:") {
		t.Fatalf("NewOnTLS URL = %s", on.URL)
	}
	resp, err = c2.Get(on.URL + "/rate_limit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
