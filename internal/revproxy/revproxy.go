// Package revproxy is the reverse proxy km-sim and the test harnesses put
// in front of kumo and the GitHub simulator.
//
// net/http's server, when a handler writes its answer before reading the
// request body to the end, reads the rest itself and closes the body. A
// plain httputil.ReverseProxy hands that same body to its transport, which
// may still be reading it (the last bytes, or its end-of-body probe) when
// the upstream has already answered: the read fails ("invalid Read on
// closed Body"), the transport drops the upstream connection, and the
// client receives the upstream's answer cut short ("unexpected EOF"): in
// go test -count=3 of the plan/apply tests, 3 runs of 4 lost kumo answers
// this way before Proxy.
//
// Proxy enables full duplex on every request, so the body stays the
// transport's until it is done, and uses connections of its own: every
// httptest.Server.Close in a process closes http.DefaultTransport's idle
// connections.
//
// It imports nothing from km.
package revproxy

import (
	"net/http"
	"net/http/httputil"
	"net/url"
)

// Proxy is an httputil.ReverseProxy that serves every request full duplex.
type Proxy struct {
	*httputil.ReverseProxy
}

// New returns a Proxy to target with a transport of its own.
func New(target *url.URL) *Proxy {
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = http.DefaultTransport.(*http.Transport).Clone()
	return &Proxy{ReverseProxy: rp}
}

// ServeHTTP forwards r. Full duplex is refused only by HTTP/2 servers,
// which do not close the body early; the error is ignored.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).EnableFullDuplex()
	p.ReverseProxy.ServeHTTP(w, r)
}
