package sandbox

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/klankermaker/km/profiles"
)

func TestNormalizeGitURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com", "https://github.com"},
		{"https://GitHub.com/", "https://github.com"},
		{"HTTPS://github.com:443", "https://github.com"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"http://localhost:80", "http://localhost"},
		{"https://ghes.example:8443/git/", "https://ghes.example:8443/git"},
		{"ftp://github.com", ""},
		{"github.com", ""},
		{"https://user@github.com", ""},
		{"https://github.com?x=1", ""},
		{"https://", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeGitURL(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeGitURL(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeGitURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSettingsFileRoundTrip(t *testing.T) {
	s := twoOwners("http://127.0.0.1:8080")
	s.AllowedRefs = []string{"main", "release/*"}
	path := filepath.Join(t.TempDir(), "sandbox.json")
	if err := os.WriteFile(path, s.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSettings(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("read back %+v, want %+v", got, s)
	}
}

func TestReadSettingsRejects(t *testing.T) {
	good := string(twoOwners("https://github.com").Encode())
	noOwners := twoOwners("https://github.com")
	noOwners.Owners = nil
	tests := []struct{ name, content, want string }{
		{"unknown field", strings.Replace(good, `"push"`, `"pushh"`, 1), "unknown field"},
		{"other version", strings.Replace(good, `"version": 1`, `"version": 9`, 1), "re-run km sandbox init"},
		{"no owners", string(noOwners.Encode()), "owners is empty"},
		{"foreign host form", strings.Replace(good, `"https://github.com"`, `"https://GitHub.com/"`, 1), "not normalised"},
		{"not JSON", "token: x", "re-run km sandbox init"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadSettings(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadSettings = %v; want an error naming %s and %q", err, path, tt.want)
			}
		})
	}
	if _, err := ReadSettings(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "km sandbox init") {
		t.Errorf("missing file: %v", err)
	}
}

// writeDeclaration writes a km.yaml and profiles into dir and returns km.yaml's path.
func writeDeclaration(t *testing.T, dir, webURL string, sandboxes map[string]string, profileYAML map[string]string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "profiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("region: us-east-1\nprefix: km\ngithub:\n  appClientId: Iv1.test\n")
	if webURL != "" {
		b.WriteString("  webURL: " + webURL + "\n")
	}
	b.WriteString("  installations:\n    my-user: 1\n    my-org: 2\nprofilesDir: profiles\nsandboxes:\n")
	for _, id := range slices.Sorted(maps.Keys(sandboxes)) {
		b.WriteString("  - id: " + id + "\n    profile: " + sandboxes[id] + "\n    principal: arn:aws:iam::123456789012:role/km-sandbox-" + id + "\n")
	}
	cfg := filepath.Join(dir, "km.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, spec := range profileYAML {
		doc := "apiVersion: klankermaker.ai/v1alpha1\nkind: SandboxProfile\nmetadata: {name: " + name + "}\nspec:\n  sourceAccess:\n    github:\n" + spec
		if err := os.WriteFile(filepath.Join(dir, "profiles", name+".yaml"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func TestSettingsFor(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeDeclaration(t, dir, "https://GitHub.com/", map[string]string{"sb-two": "two", "sb-ro": "ro"}, map[string]string{
		"two": "      allowedRepos: [My-User/app, my-org/*, my-user/lib]\n      allowedRefs: [main, \"release/*\"]\n      permissions: [clone, fetch, push]\n",
		"ro":  "      allowedRepos: [my-org/app]\n      permissions: [clone]\n",
	})
	cfg, err := profiles.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := SettingsFor(cfg, "sb-two")
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		Version: SettingsVersion, SandboxID: "sb-two", Profile: "two", Region: "us-east-1", Prefix: "km",
		GitURL: "https://github.com", AllowedRefs: []string{"main", "release/*"}, Push: true,
		APIURL: "https://api.github.com", AllowedRepos: []string{"My-User/app", "my-org/*", "my-user/lib"}, Enforcement: "hook",
		Owners: []OwnerParam{
			{Owner: "my-user", Parameter: "/sandbox/sb-two/github-token"},
			{Owner: "my-org", Parameter: "/sandbox/sb-two/github-token-my-org"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SettingsFor(sb-two) =\n%+v\nwant\n%+v", got, want)
	}
	ro, err := SettingsFor(cfg, "sb-ro")
	if err != nil {
		t.Fatal(err)
	}
	if ro.Push || len(ro.AllowedRefs) != 0 || len(ro.Owners) != 1 || ro.Owners[0].Parameter != "/sandbox/sb-ro/github-token" {
		t.Errorf("SettingsFor(sb-ro) = %+v; want no push, no refs, one owner at the seed's parameter", ro)
	}
	if _, err := SettingsFor(cfg, "sb-nope"); err == nil || !strings.Contains(err.Error(), "sb-nope") || !strings.Contains(err.Error(), cfgPath) {
		t.Errorf("unknown sandbox: %v", err)
	}
}
