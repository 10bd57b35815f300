package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/pemkey"
)

func TestLoadGoodFixture(t *testing.T) {
	const path = "testdata/good/km.yaml"
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	abs, _ := filepath.Abs(path)
	if c.File != abs || c.Path != path || c.Dir != filepath.Dir(abs) {
		t.Errorf("File/Path/Dir = %q %q %q", c.File, c.Path, c.Dir)
	}
	if c.Region != "eu-central-1" || c.Prefix != "acme-km" {
		t.Errorf("Region, Prefix = %q, %q", c.Region, c.Prefix)
	}
	if want := filepath.Join(filepath.Dir(abs), "sandbox-profiles"); c.ProfilesDir != want {
		t.Errorf("ProfilesDir = %q, want %q", c.ProfilesDir, want)
	}
	g := c.GitHub
	if g.AppClientID != "Iv1.0123abcd" || g.AppID != 987654 {
		t.Errorf("AppClientID, AppID = %q, %d", g.AppClientID, g.AppID)
	}
	if g.APIURL != "https://ghe.example.com/api/v3" || g.WebURL != "https://ghe.example.com" {
		t.Errorf("APIURL, WebURL = %q, %q", g.APIURL, g.WebURL)
	}
	wantInst := []Installation{
		{Account: "Acme-Corp", ID: 111, Pos: Pos{File: path, Line: 10, Col: 5}},
		{Account: "alice", ID: 222, Pos: Pos{File: path, Line: 11, Col: 5}},
	}
	if !reflect.DeepEqual(g.Installations, wantInst) {
		t.Errorf("Installations = %+v, want %+v", g.Installations, wantInst)
	}
	if g.DefaultInstallation != "alice" {
		t.Errorf("DefaultInstallation = %q, want the listed spelling alice", g.DefaultInstallation)
	}
	if g.PrivateKeyFile != "" || g.PrivateKeyPEM != nil || g.KeyFingerprint != "" {
		t.Errorf("no key configured, got file %q fingerprint %q", g.PrivateKeyFile, g.KeyFingerprint)
	}
	if !c.GitHubConfigured() {
		t.Error("GitHubConfigured = false")
	}
	wantR := Refresher{Schedule: "cron(0/30 * * * ? *)", MemoryMB: 256, TimeoutSeconds: 120, LogRetentionDays: 14, Architecture: "x86_64"}
	if c.Refresher != wantR {
		t.Errorf("Refresher = %+v, want %+v", c.Refresher, wantR)
	}
	wantSB := []Sandbox{
		{ID: "dev-1", Profile: "web", Principal: "arn:aws-us-gov:iam::123456789012:role/path/dev-1", Pos: Pos{File: path, Line: 21, Col: 5}},
		{ID: "ci", Profile: "everything", Principal: "arn:aws-us-gov:iam::123456789012:user/ci-bot", Pos: Pos{File: path, Line: 24, Col: 5}},
		{ID: "reader", Profile: "readonly", Principal: "arn:aws-us-gov:iam::123456789012:role/reader", Pos: Pos{File: path, Line: 27, Col: 5}},
	}
	if !reflect.DeepEqual(c.Sandboxes, wantSB) {
		t.Errorf("Sandboxes = %+v\nwant %+v", c.Sandboxes, wantSB)
	}
	var names []string
	for n := range c.Profiles {
		names = append(names, n)
	}
	if len(names) != 4 || c.Profile("web") == nil || c.Profile("everything") == nil || c.Profile("readonly") == nil || c.Profile("unused") == nil {
		t.Fatalf("profiles = %v, want web, everything, readonly, unused (README.md and dotfiles ignored)", names)
	}
	if c.Profile("nope") != nil {
		t.Error("Profile(nope) != nil")
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(c.Hash) {
		t.Errorf("Hash = %q, want 64 hex digits", c.Hash)
	}

	web := c.Profile("web")
	if web.Pos != (Pos{File: "testdata/good/sandbox-profiles/web.yaml", Line: 4, Col: 9}) {
		t.Errorf("web.Pos = %+v", web.Pos)
	}
	if want, _ := filepath.Abs("testdata/good/sandbox-profiles/web.yaml"); web.File != want {
		t.Errorf("web.File = %q, want %q", web.File, want)
	}
	if got := web.Owners(); !reflect.DeepEqual(got, []string{"acme-corp", "alice"}) {
		t.Errorf("web.Owners() = %v", got)
	}
	if names, all := web.ReposFor("ACME-CORP"); !reflect.DeepEqual(names, []string{"api", "web"}) || all {
		t.Errorf("web.ReposFor(ACME-CORP) = %v, %v; want [api web] (deduplicated case-insensitively), false", names, all)
	}
	if names, all := web.ReposFor("stranger"); names != nil || all {
		t.Errorf("web.ReposFor(stranger) = %v, %v", names, all)
	}
	if !reflect.DeepEqual(web.AllowedRefs, []string{"main", "feature/*", "v[0-9]*"}) {
		t.Errorf("web.AllowedRefs = %v", web.AllowedRefs)
	}
	if !web.CanPush() || web.ContentsPermission() != "write" || !reflect.DeepEqual(web.GitHubPermissions(), map[string]string{"contents": "write", "metadata": "read"}) {
		t.Errorf("web permissions: CanPush %v contents %q", web.CanPush(), web.ContentsPermission())
	}

	all := c.Profile("everything")
	if all.StarAccount != "alice" {
		t.Errorf("StarAccount = %q, want alice", all.StarAccount)
	}
	if got := c.OwnersOf(all); !reflect.DeepEqual(got, []string{"alice", "acme-corp"}) {
		t.Errorf("OwnersOf(everything) = %v, want [alice acme-corp]", got)
	}
	for _, owner := range []string{"alice", "Acme-Corp"} {
		if names, every := all.ReposFor(owner); names != nil || !every {
			t.Errorf("everything.ReposFor(%s) = %v, %v; want nil, true", owner, names, every)
		}
	}
	if _, every := all.ReposFor("stranger"); every {
		t.Error(`"*" must resolve to the default account only`)
	}

	ro := c.Profile("readonly")
	if !reflect.DeepEqual(ro.Permissions, []string{"clone", "fetch"}) || ro.CanPush() || ro.ContentsPermission() != "read" {
		t.Errorf("readonly permissions = %v", ro.Permissions)
	}
	if len(ro.AllowedRefs) != 0 || !RefAllowed(ro.AllowedRefs, "anything") {
		t.Errorf("readonly AllowedRefs = %v, want none (every ref allowed)", ro.AllowedRefs)
	}

	if in, ok := c.InstallationFor("ACME-corp"); !ok || in.ID != 111 || in.Account != "Acme-Corp" {
		t.Errorf("InstallationFor(ACME-corp) = %+v, %v", in, ok)
	}
	if in, ok := c.InstallationFor("stranger"); !ok || in.ID != 222 || in.Account != "alice" {
		t.Errorf("InstallationFor(stranger) = %+v, %v; want the default installation", in, ok)
	}
	if sb, ok := c.Sandbox("ci"); !ok || sb.Profile != "everything" {
		t.Errorf("Sandbox(ci) = %+v, %v", sb, ok)
	}
	if _, ok := c.Sandbox("nope"); ok {
		t.Error("Sandbox(nope) found")
	}
}

func TestLoadExample(t *testing.T) {
	c, err := Load("../km.example.yaml")
	if err != nil {
		t.Fatalf("the documented example must load: %v", err)
	}
	if c.Region != "us-east-1" || c.Prefix != "km" || c.GitHub.AppClientID != "Iv1.abc123" || c.GitHub.AppID != 123456 {
		t.Errorf("example values: %+v", c)
	}
	if c.Refresher != DefaultRefresher() {
		t.Errorf("example refresher %+v, want the defaults %+v", c.Refresher, DefaultRefresher())
	}
	if len(c.Sandboxes) != 1 || c.Sandboxes[0].ID != "sb-7f3a9c" || c.Sandboxes[0].Principal == "" {
		t.Errorf("example sandboxes: %+v", c.Sandboxes)
	}
	p := c.Profile("my-profile")
	if p == nil {
		t.Fatal("example profile my-profile not loaded")
	}
	if got := c.OwnersOf(p); !reflect.DeepEqual(got, []string{"my-user", "my-org"}) {
		t.Errorf("owners = %v", got)
	}
	if names, all := p.ReposFor("my-user"); !reflect.DeepEqual(names, []string{"my-repo"}) || all {
		t.Errorf("ReposFor(my-user) = %v, %v", names, all)
	}
	if _, all := p.ReposFor("my-org"); !all {
		t.Error("ReposFor(my-org): want all")
	}
	if !RefAllowed(p.AllowedRefs, "release/v2") || RefAllowed(p.AllowedRefs, "dev") {
		t.Errorf("allowedRefs %v: release/v2 must be allowed, dev denied", p.AllowedRefs)
	}
}

func TestLoadDefaults(t *testing.T) {
	cases := []struct {
		name, km string
	}{
		{"empty file", ""},
		{"comments only", "# nothing yet\n"},
		{"no github, no sandboxes", "region: us-west-2\n"},
		{"github without client id", "github:\n  installations:\n    me: 1\n"},
		{"null sections", "github:\nrefresher:\nsandboxes:\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := inTempDir(t, map[string]string{"km.yaml": c.km})
			cfg, err := Load("km.yaml")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Prefix != "km" || cfg.GitHub.APIURL != DefaultAPIURL || cfg.GitHub.WebURL != DefaultWebURL || cfg.Refresher != DefaultRefresher() {
				t.Errorf("defaults not applied: %+v", cfg)
			}
			if cfg.ProfilesDir != filepath.Join(cfg.Dir, "profiles") || filepath.Base(cfg.Dir) != filepath.Base(dir) {
				t.Errorf("ProfilesDir = %q", cfg.ProfilesDir)
			}
			if cfg.GitHubConfigured() {
				t.Error("GitHubConfigured = true without a client id")
			}
			if len(cfg.Sandboxes) != 0 || len(cfg.Profiles) != 0 {
				t.Errorf("sandboxes %v profiles %v", cfg.Sandboxes, cfg.Profiles)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	inTempDir(t, nil)
	_, err := Load("nope.yaml")
	if err == nil || !os.IsNotExist(unwrapAll(err)) || !strings.Contains(err.Error(), "nope.yaml") || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("Load(missing) = %v; want a not-exist error naming the file and --config", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestLoadWithKey(t *testing.T) {
	for _, pkcs8 := range []bool{false, true} {
		key := rsaPEM(t, pkcs8)
		inTempDir(t, map[string]string{
			"km.yaml":         patch(t, baseKM, "  appClientId: Iv1.abc123\n", "  appClientId: Iv1.abc123\n  privateKeyFile: keys/app.pem\n"),
			"profiles/p.yaml": baseProfile,
			"keys/app.pem":    string(key),
		})
		c, err := Load("km.yaml")
		if err != nil {
			t.Fatalf("pkcs8=%v: %v", pkcs8, err)
		}
		want, _ := pemkey.Fingerprint(key)
		if !strings.HasPrefix(want, "SHA256:") || c.GitHub.KeyFingerprint != want || string(c.GitHub.PrivateKeyPEM) != string(key) {
			t.Errorf("pkcs8=%v: fingerprint %q, want %q", pkcs8, c.GitHub.KeyFingerprint, want)
		}
		if !filepath.IsAbs(c.GitHub.PrivateKeyFile) || !strings.HasSuffix(c.GitHub.PrivateKeyFile, "keys/app.pem") {
			t.Errorf("PrivateKeyFile = %q, want absolute", c.GitHub.PrivateKeyFile)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	c := &Config{GitHub: GitHub{APIURL: DefaultAPIURL, WebURL: DefaultWebURL}}
	c.ApplyEnv(func(string) string { return "" })
	if c.GitHub.APIURL != DefaultAPIURL || c.GitHub.WebURL != DefaultWebURL {
		t.Errorf("empty env changed URLs: %+v", c.GitHub)
	}
	env := map[string]string{"KM_GITHUB_API_URL": "http://127.0.0.1:8080/api/v3//", "KM_GITHUB_WEB_URL": "http://127.0.0.1:8080/"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.GitHub.APIURL != "http://127.0.0.1:8080/api/v3" || c.GitHub.WebURL != "http://127.0.0.1:8080" {
		t.Errorf("after ApplyEnv: %q %q", c.GitHub.APIURL, c.GitHub.WebURL)
	}
}

func TestInstallationForWithoutInstallations(t *testing.T) {
	c := &Config{}
	if _, ok := c.InstallationFor("anyone"); ok {
		t.Error("InstallationFor with no installations: ok = true")
	}
	c.GitHub.Installations = []Installation{{Account: "Org", ID: 5}}
	if _, ok := c.InstallationFor("other"); ok {
		t.Error("no default installation: ok must be false for an unlisted owner")
	}
	if in, ok := c.InstallationFor("org"); !ok || in.ID != 5 {
		t.Errorf("InstallationFor(org) = %+v, %v", in, ok)
	}
}

func TestHash(t *testing.T) {
	key := rsaPEM(t, false)
	otherKey := rsaPEM(t, false)
	files := map[string]string{
		"km.yaml":              patch(t, baseKM, "  appClientId: Iv1.abc123\n", "  appClientId: Iv1.abc123\n  privateKeyFile: app.pem\n"),
		"profiles/p.yaml":      baseProfile,
		"profiles/unused.yaml": strings.Replace(baseProfile, "name: p", "name: unused", 1),
		"app.pem":              string(key),
	}
	dir := inTempDir(t, files)
	load := func() string {
		t.Helper()
		c, err := Load("km.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return c.Hash
	}
	base := load()
	if load() != base {
		t.Fatal("hash differs between two loads of the same files")
	}
	if strings.Contains(base, string(key)) {
		t.Fatal("hash contains the key")
	}
	rewrite := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rewrite("profiles/unused.yaml", files["profiles/unused.yaml"]+"# edited\n")
	if load() != base {
		t.Error("editing a profile no sandbox uses changed the hash")
	}
	rewrite("profiles/p.yaml", baseProfile+"# edited\n")
	h2 := load()
	if h2 == base {
		t.Error("editing a used profile did not change the hash")
	}
	rewrite("app.pem", string(otherKey))
	h3 := load()
	if h3 == h2 {
		t.Error("rotating the key did not change the hash")
	}
	rewrite("km.yaml", files["km.yaml"]+"# edited\n")
	if load() == h3 {
		t.Error("editing km.yaml did not change the hash")
	}
}

// TestMultipleErrors loads a declaration with many problems across two files and
// checks that every one is reported, in file then position order, one per line.
func TestMultipleErrors(t *testing.T) {
	_, err := Load("testdata/multi/km.yaml")
	list := mustErrors(t, err)
	const km, bad = "testdata/multi/km.yaml", "testdata/multi/profiles/bad.yaml"
	want := []struct{ pos, frag string }{
		{km + ":5:3", `unknown key "apiUrl"`},
		{km + ":8:13", "github.installations.my-org: found -1"},
		{km + ":9:24", `github.defaultInstallation: "someone" is not listed`},
		{km + ":11:13", `refresher.memoryMB: found the string "lots"`},
		{km + ":12:17", `did you mean "arm64"?`},
		{km + ":14:5", `sandboxes entry sb-1 has no principal`},
		{km + ":16:5", `sandboxes entry sb-1 has no principal`},
		{km + ":16:9", `duplicate sandbox id "sb-1" (first at line 14)`},
		{km + ":18:5", `sandboxes entry Bad_Id has no principal`},
		{km + ":18:9", `sandbox id "Bad_Id" is malformed`},
		{km + ":20:5", `sandboxes entry sb-3 has no principal`},
		{km + ":21:14", `profile "missing" not found in testdata/multi/profiles`},
		{km + ":24:16", `principal "role/km" is not an IAM role or user ARN`},
		{bad + ":7:22", `repo pattern "my-user"`},
		{bad + ":7:31", `repo pattern "my-org/x/y"`},
		{bad + ":8:21", `ref pattern "[main"`},
		{bad + ":9:28", `unknown permission "write"`},
		{bad + ":10:7", `unknown key "allowRefs"; expected one of allowedRepos, allowedRefs, permissions, allowedEndpoints; did you mean "allowedRefs"?`},
	}
	if len(list) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i := 0; i < min(len(list), len(want)); i++ {
		if posOf(list[i]) != want[i].pos || !strings.Contains(list[i].Msg, want[i].frag) {
			t.Errorf("error %d = %v\nwant %s: ...%s...", i, list[i], want[i].pos, want[i].frag)
		}
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(list) {
		t.Errorf("Error() has %d lines for %d errors", len(lines), len(list))
	}
}
