package refreshertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klankermaker/km/internal/revproxy"
)

// Proxy sits between refresher processes and kumo: it forwards every
// request, counts the AWS API calls (everything but the Runtime API), and
// reports when a function's runtime first polls for an invocation — kumo
// only routes Invoke to the Runtime API once a handler has polled.
type Proxy struct {
	URL      string       // point AWS_ENDPOINT_URL here
	AWSCalls atomic.Int64 // AWS API calls forwarded (the Runtime API not counted)

	mu      sync.Mutex
	polled  map[string]chan struct{}
	history *ssmHistory // KeepSSMHistory
}

// NewProxy starts a proxy in front of kumoURL, closed when the test ends.
func NewProxy(t testing.TB, kumoURL string) *Proxy {
	t.Helper()
	target, err := url.Parse(kumoURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{polled: map[string]chan struct{}{}}
	rp := revproxy.New(target)
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if !errors.Is(err, context.Canceled) { // a killed refresher drops its long poll
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn, ok := strings.CutPrefix(r.URL.Path, "/_runtime/"); ok {
			fn, rest, _ := strings.Cut(fn, "/")
			if r.Method == http.MethodGet && strings.HasSuffix(rest, "/invocation/next") {
				p.signal(fn)
			}
		} else {
			p.AWSCalls.Add(1)
			if h := p.ssmHistory(); h != nil && h.serveSSM(w, r, rp) {
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Polled is closed once a runtime has polled fn's next invocation: from
// then on kumo routes Invoke of fn to the Runtime API.
func (p *Proxy) Polled(fn string) <-chan struct{} { return p.ch(fn) }

func (p *Proxy) ch(fn string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.polled[fn]
	if !ok {
		c = make(chan struct{})
		p.polled[fn] = c
	}
	return c
}

func (p *Proxy) signal(fn string) {
	c := p.ch(fn)
	select {
	case <-c:
	default:
		close(c)
	}
}

// RuntimeAPI is the AWS_LAMBDA_RUNTIME_API value for fn: host:port/_runtime/fn.
func (p *Proxy) RuntimeAPI(fn string) string {
	return strings.TrimPrefix(p.URL, "http://") + "/_runtime/" + fn
}
