package proxy

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := LoadOrCreateCA(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"": 0o700, CAKeyFile: 0o600, CACertFile: 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v mode %v, want %04o", filepath.Join(dir, name), err, st.Mode().Perm(), mode)
		}
	}
	again, err := LoadOrCreateCA(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.CertPEM(), ca.CertPEM()) {
		t.Error("a second start made another CA")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM())
	for _, host := range []string{"github.com", "127.0.0.1", "::1"} {
		leaf, err := again.Leaf(host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("leaf for %s does not verify: %v", host, err)
		}
		if l2, _ := again.Leaf(host); l2 != leaf {
			t.Errorf("leaf for %s was not cached", host)
		}
	}
	if n := again.CachedLeafs(); n != 3 {
		t.Errorf("cache holds %d leafs, want 3", n)
	}
	// A leaf about to expire is replaced.
	later := time.Now().Add(leafValidity)
	aged := &CA{cert: again.cert, key: again.key, now: func() time.Time { return later }, leafs: again.leafs}
	if l, _ := aged.Leaf("github.com"); l.Leaf.NotAfter.Before(later.Add(leafValidity - 2*time.Hour)) {
		t.Error("an aging leaf was served from the cache")
	}
}

func TestCARefusals(t *testing.T) {
	t.Run("key readable by others", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateCA(dir, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, CAKeyFile), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateCA(dir, nil); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("err = %v, want the chmod fix", err)
		}
	})
	t.Run("certificate without its key", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateCA(dir, nil); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, CAKeyFile))
		if _, err := LoadOrCreateCA(dir, nil); err == nil || !strings.Contains(err.Error(), "incomplete") {
			t.Errorf("err = %v, want incomplete", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := LoadOrCreateCA(dir, nil); err != nil {
			t.Fatal(err)
		}
		future := func() time.Time { return time.Now().Add(caValidity + time.Hour) }
		if _, err := LoadOrCreateCA(dir, future); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Errorf("err = %v, want expired", err)
		}
	})
}
