package githubsim_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klankermaker/km/internal/githubsim"
)

func TestNewOnAndGitRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repos")
	s, err := githubsim.NewOn(":0", githubsim.WithGitRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q, want http://127.0.0.1:PORT", s.URL)
	}
	res := call(t, "GET", s.URL+"/rate_limit", "", nil)
	wantStatus(t, "rate_limit on NewOn", res, 200)
	if err := s.AddRepo("acme", "api"); err != nil {
		t.Fatal(err)
	}
	if got, want := s.RepoPath("acme", "api"), filepath.Join(root, "acme", "api.git"); got != want {
		t.Errorf("RepoPath %s, want %s", got, want)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(root, "acme", "api.git", "HEAD")); err != nil {
		t.Errorf("WithGitRoot directory removed by Close: %v", err)
	}
	if _, err := http.Get(s.URL + "/rate_limit"); err == nil {
		t.Error("server still answers after Close")
	}
	if _, err := githubsim.NewOn("256.0.0.1:1"); err == nil {
		t.Error("NewOn accepted an impossible address")
	}
	if _, err := githubsim.NewOn("127.0.0.1:0", githubsim.WithKeyBits(512)); err == nil {
		t.Error("NewOn accepted 512-bit keys")
	}
}

func TestDefaultGitRootRemovedOnClose(t *testing.T) {
	s := githubsim.New(githubsim.WithKeyBits(1024))
	if err := s.AddRepo("acme", "api"); err != nil {
		t.Fatal(err)
	}
	root := s.GitRoot()
	if _, err := os.Stat(root); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("temporary git root %s left after Close (%v)", root, err)
	}
	s.Close() // idempotent
}

func TestUnknownPathsAreJSON404(t *testing.T) {
	f := newFixture(t)
	res := f.call("GET", "/repos/acme/api/pulls", "", nil)
	wantStatus(t, "unknown path", res, 404)
	if res.message(t) != "Not Found" {
		t.Errorf("body %s", res.Body)
	}
}

// TestConcurrentUse mints and uses tokens from many goroutines; run with
// -race to check the locking.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	inst := f.sim.AddInstallation("acme", "Organization", []string{"api", "web"}, nil)
	jwt := bearer(f.jwt())
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				res, err := do("POST", f.sim.URL+path("/app/installations/%d/access_tokens", inst), jwt, map[string]any{"repositories": []string{"api"}})
				if err != nil || res.Status != 201 {
					errs <- fmt.Sprint(err, string(res.Body))
					return
				}
				_ = f.sim.Tokens()
				_ = f.sim.Requests()
				if i%2 == 0 {
					f.sim.AddInstallation("other", "User", nil, nil)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(f.sim.Tokens()); n != 32 {
		t.Errorf("%d tokens, want 32", n)
	}
}
