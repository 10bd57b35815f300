package proxy_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/proxy"
)

// TestProxyWithGit drives the real git client through the real `km proxy`
// against the GitHub simulator, over TLS (intercepted with the sandbox CA)
// and over plain HTTP. The token can read and write every repository of
// my-user: every refusal below comes from the proxy, not from GitHub.
func TestProxyWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	km := buildKM(t, t.TempDir())
	for _, mode := range []string{"tls", "http"} {
		t.Run(mode, func(t *testing.T) { proxySuite(t, km, mode == "tls") })
	}
}

func proxySuite(t *testing.T, km string, useTLS bool) {
	w := newSimWorld(t, useTLS, []string{"main", "release/*"})
	p := startProxy(t, km, w.settings, filepath.Join(t.TempDir(), "ca"), w.caFile)
	if st, err := os.Stat(filepath.Join(filepath.Dir(p.caPEM), proxy.CAKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("CA key: %v, mode %v; want 0600", err, st.Mode())
	}
	g := newGitEnv(t, p.addr, p.caPEM, w.token)
	work := t.TempDir()
	clone := filepath.Join(work, "app")
	repoURL := func(r string) string { return w.sim.URL + "/my-user/" + r + ".git" }
	receivePacks := func() int { return w.sim.CountRequests("POST", "/my-user/app/git-receive-pack") }

	t.Run("clone of an allowed repository", func(t *testing.T) {
		g.mustGit(t, work, "clone", "-q", repoURL("app"), clone)
		if _, err := os.Stat(filepath.Join(clone, "README.md")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("another repository of the same owner is denied by the proxy", func(t *testing.T) {
		_, errOut, err := g.git(work, []string{"GIT_CURL_VERBOSE=1", "GIT_TRACE_REDACT=1"}, "clone", "-q", repoURL("secret"), filepath.Join(work, "secret"))
		if err == nil {
			t.Fatal("clone of my-user/secret succeeded")
		}
		if !strings.Contains(errOut, "X-Km-Deny: repo: repository my-user/secret is not in the profile's allowedRepos") {
			t.Errorf("git's trace shows no X-Km-Deny header naming the repository:\n%s", lastLines(errOut, 30))
		}
		if n := w.sim.CountRequests("GET", "/my-user/secret"); n != 0 {
			t.Errorf("the simulator saw %d requests for my-user/secret", n)
		}
	})

	var head string
	t.Run("push --no-verify to dev is denied on the wire", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(clone, "one.txt"), []byte("one\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		g.mustGit(t, clone, "add", "one.txt")
		g.mustGit(t, clone, "commit", "-q", "-m", "one")
		head = g.mustGit(t, clone, "rev-parse", "HEAD")
		before := receivePacks()
		_, errOut, err := g.git(clone, nil, "push", "--no-verify", "origin", "HEAD:dev")
		if err == nil || !strings.Contains(errOut, "[km] Push to 'dev' denied") {
			t.Fatalf("push to dev: err %v, stderr:\n%s", err, errOut)
		}
		if got := w.remoteRef("app", "refs/heads/dev"); got != "" {
			t.Errorf("dev exists on the simulator (%s)", got)
		}
		if n := receivePacks() - before; n != 0 {
			t.Errorf("%d receive-pack POSTs reached the simulator", n)
		}
	})

	t.Run("push to main succeeds", func(t *testing.T) {
		g.mustGit(t, clone, "push", "-q", "--no-verify", "origin", "HEAD:main")
		if got := w.remoteRef("app", "refs/heads/main"); got != head {
			t.Errorf("remote main = %q, want %s", got, head)
		}
	})

	t.Run("an atomic push of main and dev is refused whole", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(clone, "two.txt"), []byte("two\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		g.mustGit(t, clone, "add", "two.txt")
		g.mustGit(t, clone, "commit", "-q", "-m", "two")
		before := receivePacks()
		_, errOut, err := g.git(clone, nil, "push", "--atomic", "--no-verify", "origin", "HEAD:main", "HEAD:dev")
		if err == nil || !strings.Contains(errOut, "[km] Push to 'dev' denied") || !strings.Contains(errOut, proxy.WholePushRefused) {
			t.Fatalf("atomic push: err %v, stderr:\n%s", err, errOut)
		}
		if got := w.remoteRef("app", "refs/heads/main"); got != head {
			t.Errorf("remote main moved to %q (want %s): the refused push was applied in part", got, head)
		}
		if got := w.remoteRef("app", "refs/heads/dev"); got != "" {
			t.Errorf("dev exists on the simulator (%s)", got)
		}
		if n := receivePacks() - before; n != 0 {
			t.Errorf("%d receive-pack POSTs reached the simulator", n)
		}
	})

	t.Run("a tag named like an allowed branch is refused", func(t *testing.T) {
		g.mustGit(t, clone, "tag", "main")
		_, errOut, err := g.git(clone, nil, "push", "--no-verify", "origin", "refs/tags/main")
		if err == nil || !strings.Contains(errOut, "[km] Push to 'refs/tags/main' denied") {
			t.Fatalf("tag push: err %v, stderr:\n%s", err, errOut)
		}
		if got := w.remoteRef("app", "refs/tags/main"); got != "" {
			t.Errorf("the tag main exists on the simulator (%s)", got)
		}
	})

	t.Run("deleting a ref outside allowedRefs is refused", func(t *testing.T) {
		// A branch made on the server side (the proxy only sees pushes).
		up := exec.Command("git", "--git-dir", w.sim.RepoPath("my-user", "app"), "update-ref", "refs/heads/legacy", head)
		if out, err := up.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		_, errOut, err := g.git(clone, nil, "push", "--no-verify", "origin", "--delete", "legacy")
		if err == nil || !strings.Contains(errOut, "[km] Push to 'legacy' denied") {
			t.Fatalf("deletion: err %v, stderr:\n%s", err, errOut)
		}
		if got := w.remoteRef("app", "refs/heads/legacy"); got != head {
			t.Errorf("legacy was deleted (now %q)", got)
		}
	})

	t.Run("a non-GitHub host is refused", func(t *testing.T) {
		other, accepted := countingListener(t)
		resp := rawProxyRequest(t, p.addr, useTLS, other)
		if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get(proxy.DenyHeader), "host: ") {
			t.Errorf("status %d, %s %q; want 403 and the host rule", resp.StatusCode, proxy.DenyHeader, resp.Header.Get(proxy.DenyHeader))
		}
		if n := accepted.Load(); n != 0 {
			t.Errorf("the other host accepted %d connections: the proxy dialled it", n)
		}
		scheme := "http"
		if useTLS {
			scheme = "https"
		}
		_, errOut, err := g.git(work, nil, "ls-remote", scheme+"://"+other+"/my-user/app.git")
		if err == nil {
			t.Errorf("git ls-remote of another host succeeded: %s", errOut)
		}
	})

	t.Run("GraphQL, search, user listings and the App token endpoint are refused", func(t *testing.T) {
		c := proxiedClient(t, p)
		for _, r := range []struct{ method, path, rule string }{
			{"POST", "/graphql", "non-repo"},
			{"GET", "/search/repositories?q=secret", "non-repo"},
			{"GET", "/search/code?q=token+repo:my-user/secret", "non-repo"},
			{"GET", "/user/repos", "non-repo"},
			{"GET", "/gists", "non-repo"},
			{"GET", "/orgs/my-org/repos", "non-repo"},
			{"POST", "/app/installations/1/access_tokens", "app-api"},
			{"GET", "/repos/my-user/secret", "repo"},
			{"GET", "/repos/my-user/app/../secret", "bad-target"},
		} {
			req, _ := http.NewRequest(r.method, w.sim.URL+r.path, strings.NewReader("{}"))
			req.Header.Set("Authorization", "token "+w.token)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", r.method, r.path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			deny := resp.Header.Get(proxy.DenyHeader)
			if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(deny, r.rule+": ") || strings.Count(string(body), "\n") != 1 {
				t.Errorf("%s %s: %d %s %q body %q; want 403, rule %s, one line", r.method, r.path, resp.StatusCode, proxy.DenyHeader, deny, body, r.rule)
			}
		}
		// A repository-scoped API call passes with its Authorization untouched.
		req, _ := http.NewRequest("GET", w.sim.URL+"/installation/repositories", nil)
		req.Header.Set("Authorization", "token "+w.token)
		if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("/installation/repositories is not repository-scoped: %v %v", resp.Status, err)
		}
		req, _ = http.NewRequest("GET", w.sim.URL+"/repos/my-user/app/issues/1/comments", nil)
		req.Header.Set("Authorization", "token "+w.token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get(proxy.DenyHeader) != "" || resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("GET /repos/my-user/app/...: %s %q; want it through with its token", resp.Status, resp.Header.Get(proxy.DenyHeader))
		}
	})

	t.Run("the decision log names every decision and never a token", func(t *testing.T) {
		if strings.Contains(p.stderr.String(), w.token) || strings.Contains(strings.ToLower(p.stderr.String()), "authorization") {
			t.Fatal("the proxy's log holds the token or an Authorization header")
		}
		var sawRepo, sawRef, sawAllowed bool
		for _, d := range p.decisions(t) {
			if d.Sandbox == "" || d.Method == "" || d.Decision == "" || d.Rule == "" {
				t.Errorf("incomplete decision line %+v", d)
			}
			sawRepo = sawRepo || d.Decision == "denied" && d.Rule == "repo" && d.Repo == "my-user/secret"
			sawRef = sawRef || d.Decision == "denied" && d.Rule == "ref" && d.Ref == "refs/heads/dev" && d.Repo == "my-user/app"
			sawAllowed = sawAllowed || d.Decision == "allowed" && d.Rule == "ref" && d.Ref == "refs/heads/main"
		}
		if !sawRepo || !sawRef || !sawAllowed {
			t.Errorf("log lacks a decision: repo denied %v, dev denied %v, main allowed %v\n%s", sawRepo, sawRef, sawAllowed, lastLines(p.stderr.String(), 20))
		}
	})

	t.Run("SIGTERM stops it cleanly", func(t *testing.T) {
		if err := p.stop(t); err != nil {
			t.Errorf("km proxy exit after SIGTERM: %v\n%s", err, lastLines(p.stderr.String(), 5))
		}
	})
}

// proxiedClient is an HTTP client whose every request goes through p and
// trusts only p's CA (as a tool with HTTPS_PROXY and SSL_CERT_FILE would).
func proxiedClient(t *testing.T, p *runningProxy) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(p.caPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	pu, _ := url.Parse("http://" + p.addr)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// countingListener is a TCP listener that counts accepted connections and
// closes them: a stand-in for a host outside GitHub.
func countingListener(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), &n
}

// rawProxyRequest sends CONNECT target (TLS mode) or an absolute-form GET
// (plain mode) to the proxy and reads its answer.
func rawProxyRequest(t *testing.T, proxyAddr string, connect bool, target string) *http.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxyAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if connect {
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	} else {
		fmt.Fprintf(c, "GET http://%s/my-user/app.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	}
	req := &http.Request{Method: "GET"}
	if connect {
		req.Method = "CONNECT"
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		t.Fatalf("reading the proxy's answer: %v", err)
	}
	return resp
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
