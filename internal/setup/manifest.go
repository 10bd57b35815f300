package setup

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
)

// DefaultManifestTimeout is how long the manifest flow waits for GitHub to
// redirect back.
const DefaultManifestTimeout = 10 * time.Minute

// ManifestOptions configure the manifest flow.
type ManifestOptions struct {
	WebURL string // GitHub's web URL (the form posts to {WebURL}/settings/apps/new)
	Org    string // create the App in this organization instead of the user account
	Name   string // the App's name (the user may still change it on GitHub's page)
	// Converter exchanges the code for the App's credentials
	// (POST /app-manifests/{code}/conversions).
	Converter interface {
		ConvertManifest(ctx context.Context, code string) (githubapp.AppCredentials, error)
	}
	// NoBrowser prints the local URL instead of opening a browser.
	NoBrowser bool
	// OpenBrowser opens url in a browser (nil: xdg-open, open or rundll32).
	OpenBrowser func(ctx context.Context, url string) error
	Timeout     time.Duration // default DefaultManifestTimeout
	Out         io.Writer     // instructions for the user
}

// RunManifestFlow serves a page on 127.0.0.1 (random port) whose form posts
// the App manifest to GitHub, waits for GitHub to redirect back with a code,
// checks the state parameter and exchanges the code for the App's credentials.
func RunManifestFlow(ctx context.Context, o ManifestOptions) (githubapp.AppCredentials, error) {
	if o.Converter == nil {
		return githubapp.AppCredentials{}, errors.New("manifest flow: no GitHub client to convert the code")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultManifestTimeout
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return githubapp.AppCredentials{}, fmt.Errorf("starting the local callback server on 127.0.0.1: %w", err)
	}
	fl, err := newFlow(o, ln.Addr().String())
	if err != nil {
		ln.Close()
		return githubapp.AppCredentials{}, err
	}
	srv := &http.Server{Handler: fl, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// The result page is written before the result is handed over, so a
		// short grace period suffices; browsers keep speculative connections
		// open that Shutdown would otherwise wait for.
		sctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()

	local := "http://" + fl.host + "/"
	if o.NoBrowser {
		fmt.Fprintf(o.Out, "Open this URL in a browser to create the GitHub App:\n\n  %s\n\n", local)
	} else {
		fmt.Fprintf(o.Out, "Opening %s in your browser to create the GitHub App.\n", local)
		open := o.OpenBrowser
		if open == nil {
			open = openBrowser
		}
		if err := open(ctx, local); err != nil {
			fmt.Fprintf(o.Out, "Could not open a browser (%v); open the URL above by hand.\n", err)
		}
	}
	fmt.Fprintf(o.Out, "Waiting for GitHub to redirect back (up to %s)...\n", o.Timeout)

	timer := time.NewTimer(o.Timeout)
	defer timer.Stop()
	select {
	case r := <-fl.done:
		return r.creds, r.err
	case <-timer.C:
		return githubapp.AppCredentials{}, fmt.Errorf("timed out after %s waiting for GitHub to redirect back to %scallback; "+
			"if you created the App on GitHub meanwhile, generate a private key in its settings and run "+
			"`km configure github --app-client-id ID --private-key-file F`, otherwise run km github again", o.Timeout, local)
	case <-ctx.Done():
		return githubapp.AppCredentials{}, fmt.Errorf("manifest flow interrupted: %w", ctx.Err())
	}
}

type flowResult struct {
	creds githubapp.AppCredentials
	err   error
}

// flow is the local server's state: one App creation.
type flow struct {
	o        ManifestOptions
	host     string // 127.0.0.1:PORT
	state    string
	manifest string
	formURL  string
	done     chan flowResult
	claim    chan struct{} // holds one token: the first valid callback takes it
}

func newFlow(o ManifestOptions, host string) (*flow, error) {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	st := hex.EncodeToString(b)
	m := githubapp.NewManifest(o.Name, "http://"+host+"/callback")
	js, err := m.JSON()
	if err != nil {
		return nil, err
	}
	f := &flow{
		o: o, host: host, state: st, manifest: js,
		formURL: githubapp.ManifestFormURL(o.WebURL, o.Org, st),
		done:    make(chan flowResult, 1),
		claim:   make(chan struct{}, 1),
	}
	f.claim <- struct{}{}
	return f, nil
}

func (f *flow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Only this loopback address: a page on another origin that resolves its
	// own name to 127.0.0.1 (DNS rebinding) gets nothing.
	if r.Host != f.host {
		http.Error(w, "unexpected Host header", http.StatusMisdirectedRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		f.serveForm(w)
	case r.Method == http.MethodGet && r.URL.Path == "/callback":
		f.serveCallback(w, r)
	default:
		http.NotFound(w, r)
	}
}

var formPage = template.Must(template.New("form").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>km: create the GitHub App</title></head>
<body>
<h1>Create the km GitHub App</h1>
<p>This sends km's App manifest to GitHub{{if .Org}} for the organization <b>{{.Org}}</b>{{end}}.
GitHub asks you to confirm, then sends you back here.</p>
<form id="manifest-form" method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit" id="create-app">Create GitHub App on GitHub</button>
</form>
<script>HTMLFormElement.prototype.submit.call(document.getElementById("manifest-form"));</script>
</body></html>
`))

func (f *flow) serveForm(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = formPage.Execute(w, struct{ Org, Action, Manifest string }{f.o.Org, f.formURL, f.manifest})
}

var resultPage = template.Must(template.New("result").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>km: {{.Title}}</title></head>
<body>
<h1 id="{{.ID}}">{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Link}}<p><a href="{{.Link}}">{{.Link}}</a></p>{{end}}
</body></html>
`))

// page writes a complete result page (with its length, flushed) so that the
// browser has all of it before the flow ends and the server stops.
func page(w http.ResponseWriter, status int, id, title, text, link string) {
	var b bytes.Buffer
	_ = resultPage.Execute(&b, struct{ ID, Title, Text, Link string }{id, title, text, link})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func (f *flow) serveCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		page(w, http.StatusBadRequest, "error", "State mismatch",
			"This callback does not belong to the km github run waiting here (the state parameter differs). Nothing was changed; start again from the km github page.", "")
		return
	}
	select {
	case <-f.claim:
	default:
		page(w, http.StatusGone, "error", "Already done", "This km github run already received its App. Check the terminal.", "")
		return
	}
	creds, err := f.o.Converter.ConvertManifest(r.Context(), q.Get("code"))
	if err != nil {
		page(w, http.StatusBadGateway, "error", "Creating the App failed", err.Error()+" — see the terminal.", "")
		f.done <- flowResult{err: err}
		return
	}
	page(w, http.StatusOK, "done", "GitHub App "+creds.Slug+" created",
		"km is saving its credentials; see the terminal. Then install the App on the accounts your sandboxes need:",
		InstallURL(f.o.WebURL, creds.Slug))
	f.done <- flowResult{creds: creds}
}

// InstallURL is where an App is installed on an account.
func InstallURL(webURL, slug string) string {
	if webURL == "" {
		webURL = "https://github.com"
	}
	return webURL + "/apps/" + slug + "/installations/new"
}

// openBrowser opens url with the platform's opener.
func openBrowser(ctx context.Context, url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", url)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
