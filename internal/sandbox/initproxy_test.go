package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestInitProxy: --proxy points git at km proxy and its CA, prints the
// environment for other tools, and is required by enforcement: proxy.
func TestInitProxy(t *testing.T) {
	base := t.TempDir()
	km := filepath.Join(base, "km")
	if err := os.WriteFile(km, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "root")
	tests := []struct {
		name        string
		enforcement string
		proxy, ca   string
		wantCA      string // "" : no proxy settings
		err         string
	}{
		{name: "no proxy", enforcement: "hook"},
		{name: "proxy, default CA", enforcement: "hook", proxy: "http://127.0.0.1:3128", wantCA: filepath.Join(root, "etc/proxy-ca/ca.pem")},
		{name: "proxy, own CA", enforcement: "proxy", proxy: "http://10.0.0.1:3128/", ca: filepath.Join(base, "ca.pem"), wantCA: filepath.Join(base, "ca.pem")},
		{name: "enforcement proxy needs --proxy", enforcement: "proxy", err: "spec.network.enforcement: proxy"},
		{name: "https proxy URL", proxy: "https://127.0.0.1:3128", err: "expected http://HOST:PORT"},
		{name: "no port", proxy: "http://proxy", err: "expected http://HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gitConfig := filepath.Join(t.TempDir(), "gitconfig")
			s := twoOwners("https://github.com")
			s.Enforcement = tt.enforcement
			in, err := Init(context.Background(), s, InitOptions{Root: root, KM: km, GitConfig: gitConfig, Proxy: tt.proxy, ProxyCA: tt.ca})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Init = %v, want an error containing %q", err, tt.err)
				}
				if _, statErr := os.Stat(gitConfig); statErr == nil {
					t.Error("a refused init wrote the git config")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			proxy, hasProxy := gitConfigGet(t, gitConfig, "--get-all", "http.proxy")
			ca, hasCA := gitConfigGet(t, gitConfig, "--get-all", "http.sslCAInfo")
			if tt.wantCA == "" {
				if hasProxy || hasCA || in.ProxyEnv() != nil {
					t.Errorf("without --proxy: http.proxy %q, sslCAInfo %q, env %q", proxy, ca, in.ProxyEnv())
				}
				return
			}
			wantProxy := strings.TrimRight(tt.proxy, "/")
			if proxy != wantProxy || ca != tt.wantCA {
				t.Errorf("http.proxy %q sslCAInfo %q; want %q %q", proxy, ca, wantProxy, tt.wantCA)
			}
			wantEnv := []string{"HTTPS_PROXY=" + wantProxy, "HTTP_PROXY=" + wantProxy, "SSL_CERT_FILE=" + tt.wantCA}
			if !slices.Equal(in.ProxyEnv(), wantEnv) {
				t.Errorf("ProxyEnv = %q, want %q", in.ProxyEnv(), wantEnv)
			}
		})
	}
}
