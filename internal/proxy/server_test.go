package proxy

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// inProcess starts the proxy in front of upstream (a plain-HTTP "GitHub")
// and returns a client that sends everything through it, and the log.
func inProcess(t *testing.T, upstream string, refs []string) (*http.Client, *logBuffer) {
	t.Helper()
	pol := mustPolicy(t, Config{SandboxID: "sb-t", WebURL: upstream, APIURL: upstream, AllowedRepos: []string{"my-user/app"}, AllowedRefs: refs, Push: true})
	ca, err := LoadOrCreateCA(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &logBuffer{}
	srv, err := NewServer(Options{Policy: pol, CA: ca, Log: slog.New(slog.NewJSONHandler(logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ps := httptest.NewServer(srv)
	t.Cleanup(ps.Close)
	pu, _ := url.Parse(ps.URL)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}, logBuf
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPushStreams proves the pack is streamed: the upstream receives the
// commands and the first pack bytes while the client is still holding back
// the rest of its body. A proxy that buffered the body would never forward
// anything before the client finished, and the test would time out.
func TestPushStreams(t *testing.T) {
	gotFirst := make(chan []byte, 1)
	var total atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		head := make([]byte, len(pktStr(oidA+" "+oidB+" refs/heads/main\x00report-status\n"))+4+4)
		if _, err := io.ReadFull(r.Body, head); err != nil {
			t.Errorf("upstream read: %v", err)
			return
		}
		gotFirst <- head
		n, _ := io.Copy(io.Discard, r.Body)
		total.Store(int64(len(head)) + n)
		w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
		_, _ = io.WriteString(w, pktStr("unpack ok\n")+pktStr("ok refs/heads/main\n")+"0000")
	}))
	t.Cleanup(up.Close)
	client, _ := inProcess(t, up.URL, []string{"main"})

	pr, pw := io.Pipe()
	cmds := pktStr(oidA+" "+oidB+" refs/heads/main\x00report-status\n") + "0000"
	packChunk := bytes.Repeat([]byte("P"), 256<<10)
	errc := make(chan error, 1)
	go func() {
		if _, err := io.WriteString(pw, cmds+"PACK"); err != nil {
			errc <- err
			return
		}
		if _, err := pw.Write(packChunk); err != nil {
			errc <- err
			return
		}
		// Hold the rest back until the upstream has seen the start.
		select {
		case head := <-gotFirst:
			if !strings.HasSuffix(string(head), "0000PACK") {
				errc <- io.ErrUnexpectedEOF
				return
			}
		case <-time.After(20 * time.Second):
			errc <- io.ErrNoProgress
			pw.CloseWithError(io.ErrNoProgress)
			return
		}
		for i := 0; i < 8; i++ {
			if _, err := pw.Write(packChunk); err != nil {
				errc <- err
				return
			}
		}
		errc <- pw.Close()
	}()
	req, _ := http.NewRequest("POST", up.URL+"/my-user/app.git/git-receive-pack", pr)
	req.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := <-errc; err != nil {
		t.Fatalf("the upstream did not get the pack's start before the client finished (buffered?): %v", err)
	}
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ok refs/heads/main") {
		t.Errorf("response %d %q", resp.StatusCode, body)
	}
	if want := int64(len(cmds) + 4 + 9*len(packChunk)); total.Load() != want {
		t.Errorf("upstream received %d bytes, want %d (every byte, in order)", total.Load(), want)
	}
}

// TestPushRefused: a refused push never reaches the upstream; the client
// reads a receive-pack report (200) naming each ref, with X-Km-Deny.
func TestPushRefused(t *testing.T) {
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(up.Close)
	client, logBuf := inProcess(t, up.URL, []string{"main"})
	tests := []struct {
		name   string
		body   string
		status int
		want   []string
	}{
		{"report-status", pktStr(oidA+" "+oidB+" refs/heads/main\x00report-status atomic\n") + pktStr(oid0+" "+oidB+" refs/heads/dev\n") + "0000PACK" + strings.Repeat("x", 1<<20),
			200, []string{"ng refs/heads/main " + WholePushRefused, "ng refs/heads/dev [km] Push to 'dev' denied"}},
		{"side-band-64k", pktStr(oidA+" "+oid0+" refs/tags/main\x00report-status side-band-64k\n") + "0000",
			200, []string{"\x02[km] Push to 'refs/tags/main' denied\n", "ng refs/tags/main [km] Push to 'refs/tags/main' denied"}},
		{"no report-status", pktStr(oidA+" "+oidB+" refs/heads/dev\n") + "0000PACK",
			403, []string{"km proxy: denied by rule ref: [km] Push to 'dev' denied\n"}},
		{"malformed", "garbage", 403, []string{"rule malformed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", up.URL+"/my-user/app/git-receive-pack", strings.NewReader(tt.body))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get(DenyHeader) == "" {
				t.Errorf("status %d, %s %q", resp.StatusCode, DenyHeader, resp.Header.Get(DenyHeader))
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("body %q lacks %q", body, w)
				}
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the upstream received %d requests", hits.Load())
	}
	if !strings.Contains(logBuf.String(), `"ref":"refs/heads/dev","decision":"denied","rule":"ref"`) {
		t.Errorf("log lacks the dev decision:\n%s", logBuf.String())
	}
}
