package planapply_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klankermaker/km/internal/demo"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/revproxy"
	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

var (
	crashRuns      = flag.Int("crash.runs", 3, "TestKillMidApply: applies killed with SIGKILL (the issue's full size: 20)")
	crashSandboxes = flag.Int("crash.sandboxes", 5, "TestKillMidApply: new sandboxes per killed apply (full size: 50)")
	crashSeed      = flag.Uint64("crash.seed", 13, "TestKillMidApply: seed of the kill points")
)

// kmBinary is cmd/km built once for the tests that run it as a process.
var kmBinary struct {
	once sync.Once
	path string
	err  error
}

func buildKM(t *testing.T) string {
	t.Helper()
	kmBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "km-bin-")
		if err != nil {
			kmBinary.err = err
			return
		}
		kmBinary.path = filepath.Join(dir, "km")
		out, err := exec.Command("go", "build", "-o", kmBinary.path, "github.com/klankermaker/km/cmd/km").CombinedOutput()
		if err != nil {
			kmBinary.err = fmt.Errorf("go build cmd/km: %v\n%s", err, out)
		}
	})
	if kmBinary.err != nil {
		t.Fatal(kmBinary.err)
	}
	return kmBinary.path
}

// killProxy forwards to kumo and SIGKILLs the km process at the k-th AWS
// request: before the request reaches kumo, or after kumo did it and before
// km hears the answer (a lost write).
type killProxy struct {
	rp      *revproxy.Proxy
	n       atomic.Int64
	killAt  atomic.Int64 // 0: never
	after   atomic.Bool
	mu      sync.Mutex
	victim  *os.Process
	killed  atomic.Bool
	lastReq atomic.Value // the operation killed at
}

func (p *killProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := p.n.Add(1)
	p.mu.Lock()
	rp := p.rp
	p.mu.Unlock()
	if n != p.killAt.Load() {
		rp.ServeHTTP(w, r)
		return
	}
	p.lastReq.Store(r.Header.Get("X-Amz-Target") + r.URL.Path)
	if p.after.Load() {
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
	}
	p.mu.Lock()
	if p.victim != nil {
		_ = p.victim.Kill() // SIGKILL
		p.killed.Store(true)
	}
	p.mu.Unlock()
	http.Error(w, "killed", http.StatusBadGateway)
}

var lockIDRe = regexp.MustCompile(`km force-unlock (\S+)`)

// kill -9 at seeded random points of an apply of new sandboxes, each followed
// by one clean apply (after km force-unlock of the dead holder's lock, as the
// lock error says): the clean apply converges, the plan after it has no
// changes, and every sandbox has exactly one enabled key, the one its alias
// names (no key leaked, none duplicated). Full size:
// go test ./internal/planapply -run TestKillMidApply -crash.runs 20 -crash.sandboxes 50 -v
func TestKillMidApply(t *testing.T) {
	km := buildKM(t)
	_, _, kumoURL := statetest.NewKumo(t)
	target, _ := url.Parse(kumoURL)
	proxy := &killProxy{rp: revproxy.New(target)}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	aws, _ := statetest.Client(t, kumoURL, state.Options{})
	rng := rand.New(rand.NewPCG(*crashSeed, 0))
	home := t.TempDir()
	ctx := context.Background()

	converged, killedN, leaked, dupes, unlocked := 0, 0, 0, 0, 0
	estimate := int64(9**crashSandboxes + 40) // AWS requests of one apply from scratch, about
	for run := range *crashRuns {
		prefix := fmt.Sprintf("kmkill%d", run)
		var ids []string
		for i := range *crashSandboxes {
			ids = append(ids, fmt.Sprintf("sb-k%dx%d", run, i))
		}
		sim := githubsim.New()
		defer sim.Close()
		dir := t.TempDir()
		w, err := demo.Write(sim, dir, demo.Options{Prefix: prefix, Sandboxes: ids})
		if err != nil {
			t.Fatal(err)
		}
		// kumo has no quotas: km paces itself at 100 times AWS's rates.
		if err := appendText(w.ConfigPath, "quotas:\n  scale: 100\n"); err != nil {
			t.Fatal(err)
		}
		zip := filepath.Join(dir, "refresher.zip")
		if err := os.WriteFile(zip, []byte("zip-v1"), 0o644); err != nil {
			t.Fatal(err)
		}
		runKM := func(args ...string) (string, error, *exec.Cmd) {
			cmd := exec.Command(km, append(args, "--config", w.ConfigPath)...)
			cmd.Env = []string{
				"AWS_ENDPOINT_URL=" + srv.URL, "AWS_REGION=" + statetest.Region,
				"AWS_ACCESS_KEY_ID=AKIDKUMOTEST", "AWS_SECRET_ACCESS_KEY=kumo-test-secret",
				"AWS_EC2_METADATA_DISABLED=true", "HOME=" + home,
				"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
				"KM_REFRESHER_ZIP=" + zip, "NO_COLOR=1",
			}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			proxy.mu.Lock()
			proxy.victim = cmd.Process
			proxy.mu.Unlock()
			err := cmd.Wait()
			proxy.mu.Lock()
			proxy.victim = nil
			proxy.mu.Unlock()
			return out.String(), err, cmd
		}

		// The killed apply, through a fresh transport (no connection of a
		// killed run is reused).
		rp := revproxy.New(target)
		proxy.mu.Lock()
		proxy.rp = rp
		proxy.mu.Unlock()
		proxy.n.Store(0)
		proxy.killed.Store(false)
		proxy.after.Store(rng.IntN(2) == 0)
		proxy.killAt.Store(1 + rng.Int64N(estimate))
		out, _, _ := runKM("apply", "--auto-approve")
		at := proxy.killAt.Swap(0)
		where, _ := proxy.lastReq.Load().(string)
		if proxy.killed.Load() {
			killedN++
			t.Logf("run %d: killed at AWS request %d (%s, write done: %v)", run, at, where, proxy.after.Load())
		} else {
			t.Logf("run %d: the apply finished (%d requests) before the kill point", run, proxy.n.Load())
		}
		_ = out

		// The clean apply: a dead holder's lock is released first.
		out, err, _ = runKM("apply", "--auto-approve")
		if err != nil {
			m := lockIDRe.FindStringSubmatch(out)
			if m == nil || !strings.Contains(out, "The holder is gone") {
				t.Errorf("run %d: clean apply failed without a dead holder's lock: %v\n%s", run, err, out)
				continue
			}
			unlocked++
			if uout, err, _ := runKM("force-unlock", "--force", m[1]); err != nil {
				t.Fatalf("run %d: force-unlock: %v\n%s", run, err, uout)
			}
			if out, err, _ = runKM("apply", "--auto-approve"); err != nil {
				t.Errorf("run %d: clean apply: %v\n%s", run, err, out)
				continue
			}
		}
		pout, err, _ := runKM("plan", "--detailed-exitcode")
		if err != nil {
			t.Errorf("run %d: plan after the clean apply is not empty (%v):\n%s", run, err, pout)
			continue
		}

		// Independent of km's own plan: one enabled key per sandbox, the aliased one.
		n := names.New(prefix)
		enabled := map[string][]string{}
		var appKeys []string // enabled App keys (aws_kms_key.github_app): exactly one
		keys, err := statetest.AllKeys(ctx, aws)
		if err != nil {
			t.Fatal(err)
		}
		for _, kid := range keys {
			tags, err := aws.ListResourceTags(ctx, kid)
			if err != nil || tags[names.TagPrefix] != prefix {
				continue
			}
			k, err := aws.DescribeKey(ctx, kid)
			if tags[names.TagSandbox] == "" {
				if err == nil && k.State == "Enabled" {
					appKeys = append(appKeys, kid)
				}
				continue
			}
			if err == nil && k.State == "Enabled" {
				enabled[tags[names.TagSandbox]] = append(enabled[tags[names.TagSandbox]], kid)
			}
		}
		ok := true
		if len(appKeys) != 1 {
			t.Errorf("run %d: enabled App keys %v, want exactly one", run, appKeys)
			leaked += max(len(appKeys)-1, 0)
			ok = false
		}
		for _, id := range ids {
			k, err := aws.DescribeKey(ctx, n.KeyAlias(id))
			switch {
			case err != nil:
				t.Errorf("run %d: %s has no key behind its alias: %v", run, id, err)
				ok = false
			case len(enabled[id]) != 1 || enabled[id][0] != k.KeyID:
				t.Errorf("run %d: %s: enabled keys %v, its alias names %s", run, id, enabled[id], k.KeyID)
				ok = false
				if len(enabled[id]) > 1 {
					dupes += len(enabled[id]) - 1
				}
			}
			delete(enabled, id)
		}
		for id, ks := range enabled {
			t.Errorf("run %d: enabled keys of undeclared sandbox %q: %v", run, id, ks)
			leaked += len(ks)
			ok = false
		}
		if ok {
			converged++
		}
	}
	t.Logf("kill -9 mid-apply: %d runs x %d sandboxes (seed %d): killed %d, dead holder's lock released %d, converged %d/%d, leaked keys %d, duplicate keys %d",
		*crashRuns, *crashSandboxes, *crashSeed, killedN, unlocked, converged, *crashRuns, leaked, dupes)
	if killedN == 0 {
		t.Error("no apply was killed: the kill points are past every apply's end")
	}
}

func appendText(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}
