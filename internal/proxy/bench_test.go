package proxy_test

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkPush200MB pushes a commit holding 200 MB of incompressible data
// (KM_PUSH_BENCH_MB overrides the size) through the real `km proxy` and,
// in the same run, directly to the simulator. It reports the proxy's peak
// RSS (VmHWM of the km proxy process), the pack bytes per push and the
// proxied throughput as a ratio of the direct one, and fails when the peak
// RSS reaches 64 MB: the pack must stream through, never be buffered.
//
//	go test -run '^$' -bench Push200MB -benchtime 1x ./internal/proxy
func BenchmarkPush200MB(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Fatalf("git is needed: %v", err)
	}
	mb := 200
	if v := os.Getenv("KM_PUSH_BENCH_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("KM_PUSH_BENCH_MB=%q: expected a positive number of megabytes", v)
		}
		mb = n
	}
	km := buildKM(b, b.TempDir())
	for _, mode := range []string{"http", "tls"} {
		b.Run(mode, func(b *testing.B) { benchPush(b, km, mode == "tls", mb) })
	}
}

func benchPush(b *testing.B, km string, useTLS bool, mb int) {
	w := newSimWorld(b, useTLS, []string{"main"})
	if err := w.sim.AddRepo("my-user", "direct"); err != nil {
		b.Fatal(err)
	}
	p := startProxy(b, km, w.settings, filepath.Join(b.TempDir(), "ca"), w.caFile)
	proxied := newGitEnv(b, p.addr, p.caPEM, w.token)
	// The direct client trusts the simulator's CA and uses no proxy.
	direct := newGitEnv(b, "", w.caFile, w.token)
	work := b.TempDir()
	clone := filepath.Join(work, "app")
	proxied.mustGit(b, work, "clone", "-q", w.sim.URL+"/my-user/app.git", clone)
	proxied.mustGit(b, clone, "remote", "add", "direct", w.sim.URL+"/my-user/direct.git")

	var proxiedDur, directDur time.Duration
	var packBytes int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		blob := filepath.Join(clone, "blob-"+strconv.Itoa(i)+".bin")
		writeRandom(b, blob, int64(mb)<<20)
		proxied.mustGit(b, clone, "add", filepath.Base(blob))
		proxied.mustGit(b, clone, "commit", "-q", "-m", "blob "+strconv.Itoa(i))
		head := proxied.mustGit(b, clone, "rev-parse", "HEAD")
		size := proxied.mustGit(b, clone, "cat-file", "-s", "HEAD:"+filepath.Base(blob))
		n, _ := strconv.ParseInt(size, 10, 64)
		packBytes += n
		// Alternate which push goes first, so that neither always meets a
		// warmer (or busier) machine.
		pushProxied := func() {
			b.StartTimer()
			start := time.Now()
			proxied.mustGit(b, clone, "push", "-q", "--no-verify", "origin", "HEAD:main")
			proxiedDur += time.Since(start)
			b.StopTimer()
		}
		pushDirect := func() {
			start := time.Now()
			direct.mustGit(b, clone, "push", "-q", "-f", "--no-verify", "direct", "HEAD:main")
			directDur += time.Since(start)
		}
		if i%2 == 0 {
			pushProxied()
			pushDirect()
		} else {
			pushDirect()
			pushProxied()
		}
		if got := w.remoteRef("app", "refs/heads/main"); got != head {
			b.Fatalf("proxied push did not land: main = %q, want %s", got, head)
		}
		if got := w.remoteRef("direct", "refs/heads/main"); got != head {
			b.Fatalf("direct push did not land: main = %q, want %s", got, head)
		}
		b.StartTimer()
	}
	b.StopTimer()
	hwm := vmHWM(b, p.cmd.Process.Pid)
	b.SetBytes(int64(mb) << 20)
	b.ReportMetric(float64(packBytes)/float64(b.N), "blob-B/op")
	b.ReportMetric(float64(hwm)/1024, "proxy-peak-RSS-MB")
	b.ReportMetric(directDur.Seconds()/proxiedDur.Seconds(), "throughput-ratio")
	b.ReportMetric(proxiedDur.Seconds()/float64(b.N), "proxied-s/op")
	b.ReportMetric(directDur.Seconds()/float64(b.N), "direct-s/op")
	if hwm >= 64<<10 {
		b.Fatalf("km proxy peak RSS %d kB for a %d MB push: the pack was buffered", hwm, mb)
	}
}

// vmHWM is a process's peak resident set size in kB (/proc/PID/status).
func vmHWM(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatalf("reading the proxy's memory: %v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmHWM %q: %v", v, err)
			}
			return n
		}
	}
	b.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// writeRandom writes n incompressible bytes to path.
func writeRandom(b *testing.B, path string, n int64) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	r := rand.NewChaCha8([32]byte{byte(n), byte(time.Now().UnixNano())})
	buf := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(buf)) {
		chunk := buf[:min(int64(len(buf)), left)]
		_, _ = r.Read(chunk)
		if _, err := bw.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
}
