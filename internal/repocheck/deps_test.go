package repocheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallPackagesScript runs .ci/install-packages.sh (what make deps runs)
// with a PATH holding only small fakes for id, sudo, apt-get, git and openssl:
// apt-get must not really run in a test, and the fakes record what the script
// asked for. Each case checks the exit code, stderr and the apt-get calls.
func TestInstallPackagesScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash not found: %v", err)
	}
	script := filepath.Join(repoRoot(t), ".ci", "install-packages.sh")
	const hint = "run: sudo apt-get update && sudo apt-get install -y "
	for _, tc := range []struct {
		name     string
		args     []string
		uid      string
		have     []string // commands present: git, openssl, apt-get, sudo (passwordless), sudo-password
		chromium bool
		aptFails bool
		wantCode int
		wantErr  string // stderr fragment; "" means stderr must be empty
		wantApt  string // apt-get calls, one per line ("" none)
	}{
		{name: "nothing missing", uid: "1000", have: []string{"git", "openssl"}, chromium: true},
		{name: "nothing missing of what the demo needs", args: []string{"git"}, uid: "1000", have: []string{"git"}},
		{name: "root installs what is missing", uid: "0", have: []string{"git", "apt-get"}, wantErr: "installing chromium openssl with apt-get",
			wantApt: "apt-get update -qq\napt-get install -y -qq chromium openssl\n"},
		{name: "non-root uses passwordless sudo", uid: "1000", have: []string{"openssl", "apt-get", "sudo"}, chromium: true, wantErr: "installing git",
			wantApt: "sudo -n apt-get update -qq\nsudo -n apt-get install -y -qq git\n"},
		{name: "sudo wants a password", uid: "1000", have: []string{"git", "openssl", "apt-get", "sudo-password"}, wantCode: 1,
			wantErr: "km: missing chromium (not root and sudo needs a password); " + hint + "chromium\n"},
		{name: "no sudo", uid: "1000", have: []string{"git", "apt-get"}, chromium: true, wantCode: 1,
			wantErr: "km: missing openssl (not root and sudo needs a password); " + hint + "openssl\n"},
		{name: "no apt-get", uid: "0", have: []string{"openssl"}, wantCode: 1,
			wantErr: "km: missing chromium git (no apt-get here: install them with your package manager); " + hint + "chromium git\n"},
		{name: "apt-get fails", uid: "0", have: []string{"apt-get"}, chromium: true, aptFails: true, wantCode: 1,
			wantErr: "(apt-get update failed); " + hint + "openssl git\n", wantApt: "apt-get update -qq\n"},
		{name: "unknown package", args: []string{"chrome"}, uid: "0", wantCode: 2, wantErr: `unknown package "chrome"; expected chromium, openssl or git`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			log := filepath.Join(dir, "apt.log")
			write := func(name, body string) {
				if err := os.MkdirAll(bin, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!"+bash+"\n"+body+"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			write("id", "echo "+tc.uid)
			aptExit := "0"
			if tc.aptFails {
				aptExit = "100"
			}
			for _, h := range tc.have {
				switch h {
				case "git", "openssl":
					write(h, "exit 0")
				case "apt-get":
					write("apt-get", `echo "${SUDO_PREFIX:-}apt-get $*" >> `+log+"\nexit "+aptExit)
				case "sudo":
					write("sudo", `[ "$1" = -n ] || exit 1; shift; [ "$1" = true ] && exit 0; SUDO_PREFIX="sudo -n " exec "$@"`)
				case "sudo-password":
					write("sudo", "exit 1")
				}
			}
			chromium := filepath.Join(dir, "chromium")
			if tc.chromium {
				write("chromium", "exit 0")
				chromium = filepath.Join(bin, "chromium")
			}
			cmd := exec.Command(bash, append([]string{script}, tc.args...)...)
			cmd.Env = []string{"PATH=" + bin, "KM_DEPS_CHROMIUM=" + chromium}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.wantCode, stderr.String())
			}
			if tc.wantErr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tc.wantErr)
			}
			if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); tc.wantCode == 1 && !strings.HasPrefix(lines[len(lines)-1], "km: missing ") {
				t.Errorf("a failure must end with the one line saying what to run, got %q", stderr.String())
			}
			apt, _ := os.ReadFile(log)
			if string(apt) != tc.wantApt {
				t.Errorf("apt-get calls:\n%s\nwant:\n%s", apt, tc.wantApt)
			}
		})
	}
}

// TestMakeRunsDepsFirst: make test (and make race) run the installer before
// anything else, and make demo runs it for git, so a missing package stops make
// before any test or build (make -n prints the commands without running them).
func TestMakeRunsDepsFirst(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct{ target, first, later string }{
		{"test", "bash .ci/install-packages.sh", "test -count=1"},
		{"race", "bash .ci/install-packages.sh", "test -race"},
		{"demo", "bash .ci/install-packages.sh git", "./scripts/demo.sh"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			// --no-print-directory and no inherited MAKEFLAGS: the test may
			// itself run under make test.
			cmd := exec.Command("make", "-n", "--no-print-directory", tc.target)
			cmd.Dir = root
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MFLAGS" && k != "MAKELEVEL" {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("make -n %s: %v", tc.target, err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if lines[0] != tc.first || !strings.Contains(string(out), tc.later) {
				t.Errorf("make -n %s starts with %q, want %q before %q:\n%s", tc.target, lines[0], tc.first, tc.later, out)
			}
		})
	}
}
