package sandbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gitConfigGet runs `git config --file file args...` and returns its output and
// whether git found a value.
func gitConfigGet(t *testing.T, file string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"config", "--file", file}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1"}
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return "", false
	}
	if err != nil {
		t.Fatalf("git config %v: %v", args, err)
	}
	return strings.TrimRight(string(out), "\n"), true
}

func TestInit(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "opt km's root") // a space and a quote survive the scripts
	// A stand-in km that records how the wrapper and the hook call it.
	km := filepath.Join(base, "fake km")
	if err := os.WriteFile(km, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '<%s>' \"$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	gitConfig := filepath.Join(base, "gitconfig")
	s := twoOwners("http://127.0.0.1:8080")
	s.AllowedRefs = []string{"main"}

	in, err := Init(context.Background(), s, InitOptions{Root: root, KM: km, GitConfig: gitConfig})
	if err != nil {
		t.Fatal(err)
	}
	want := Installed{
		Root: root, Askpass: filepath.Join(root, "bin/km-git-askpass"), Hook: filepath.Join(root, "hooks/pre-push"),
		Settings: filepath.Join(root, "etc/sandbox.json"), GitConfig: gitConfig,
	}
	if in != want {
		t.Fatalf("Init = %+v, want %+v", in, want)
	}
	for path, mode := range map[string]os.FileMode{in.Askpass: 0o755, in.Hook: 0o755, in.Settings: 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}

	// The wrapper and the hook exec km by absolute path with the settings file.
	for _, c := range []struct {
		script string
		args   []string
		want   string
	}{
		{in.Askpass, []string{"Password for 'http://127.0.0.1:8080/o/r.git': "},
			"<git-askpass><--settings><" + in.Settings + "><--><Password for 'http://127.0.0.1:8080/o/r.git': >"},
		{in.Hook, []string{"origin", "http://127.0.0.1:8080/o/r.git"},
			"<git-pre-push><--settings><" + in.Settings + "><--><origin><http://127.0.0.1:8080/o/r.git>"},
	} {
		out, err := exec.Command(c.script, c.args...).Output()
		if err != nil {
			t.Fatalf("%s: %v", c.script, err)
		}
		if string(out) != c.want {
			t.Errorf("%s called km with %s, want %s", c.script, out, c.want)
		}
	}

	check := func(wantRefs []string) {
		t.Helper()
		got, err := ReadSettings(in.Settings)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.AllowedRefs, wantRefs) {
			t.Errorf("settings allowedRefs %v, want %v", got.AllowedRefs, wantRefs)
		}
		for key, want := range map[string]string{
			"core.askPass":   in.Askpass,
			"core.hooksPath": filepath.Join(root, "hooks"),
			"credential.http://127.0.0.1:8080.useHttpPath": "true",
		} {
			if got, _ := gitConfigGet(t, gitConfig, "--get-all", key); got != want {
				t.Errorf("%s = %q, want exactly one value %q", key, got, want)
			}
		}
		// useHttpPath applies to the git host only.
		if v, ok := gitConfigGet(t, gitConfig, "--get-urlmatch", "credential.useHttpPath", "http://127.0.0.1:8080/o/r.git"); !ok || v != "true" {
			t.Errorf("useHttpPath for the git host = %q, %v", v, ok)
		}
		if v, ok := gitConfigGet(t, gitConfig, "--get-urlmatch", "credential.useHttpPath", "https://example.com/o/r.git"); ok {
			t.Errorf("useHttpPath leaks to another host: %q", v)
		}
		entries, err := os.ReadDir(filepath.Join(root, "hooks"))
		if err != nil || len(entries) != 1 || entries[0].Name() != "pre-push" {
			t.Errorf("hooks folder holds %v (%v); want exactly pre-push", entries, err)
		}
	}
	check([]string{"main"})

	// Idempotent: a second run with new settings updates the files and leaves one value per key.
	s.AllowedRefs = []string{"main", "release/*"}
	if _, err := Init(context.Background(), s, InitOptions{Root: root, KM: km, GitConfig: gitConfig}); err != nil {
		t.Fatal(err)
	}
	check([]string{"main", "release/*"})
}

func TestInitDefaultsToGitSystemConfig(t *testing.T) {
	dir := t.TempDir()
	system := filepath.Join(dir, "system-gitconfig")
	t.Setenv("GIT_CONFIG_SYSTEM", system) // where `git config --system` writes
	in, err := Init(context.Background(), twoOwners("https://github.com"), InitOptions{Root: filepath.Join(dir, "root"), KM: "/usr/local/bin/km"})
	if err != nil {
		t.Fatal(err)
	}
	if in.GitConfig != "" {
		t.Errorf("Installed.GitConfig = %q, want empty (system config)", in.GitConfig)
	}
	if got, _ := gitConfigGet(t, system, "--get", "core.askPass"); got != in.Askpass {
		t.Errorf("system config core.askPass = %q, want %q", got, in.Askpass)
	}
	if got, _ := gitConfigGet(t, system, "--get", "credential.https://github.com.useHttpPath"); got != "true" {
		t.Errorf("system config useHttpPath = %q", got)
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	s := twoOwners("https://github.com")
	tests := []struct {
		name string
		s    Settings
		opt  InitOptions
		want []string
	}{
		{"relative km", s, InitOptions{Root: dir, KM: "km", GitConfig: filepath.Join(dir, "c")}, []string{"absolute"}},
		{"invalid settings", Settings{}, InitOptions{Root: dir, KM: "/km", GitConfig: filepath.Join(dir, "c")}, []string{"sandboxId"}},
		{"git config in a missing folder", s, InitOptions{Root: dir, KM: "/km", GitConfig: filepath.Join(dir, "no/such/dir/config")},
			[]string{"core.askPass", filepath.Join(dir, "no/such/dir/config"), "--git-config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Init(context.Background(), tt.s, tt.opt)
			if err == nil {
				t.Fatal("Init succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
