package version

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden renders km version's text and JSON for three kinds of build and
// compares them with testdata/NAME.{txt,json}; -update rewrites them. The
// temporary folder holding the zip is replaced by $DIR.
func TestGolden(t *testing.T) {
	zipBytes := []byte("PK\x03\x04 a refresher package")
	for _, tc := range []struct {
		name   string
		bi     *debug.BuildInfo
		linked string
		zip    bool // write the zip where $KM_REFRESHER_ZIP points
	}{
		{name: "checkout", zip: true, bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/klankermaker/km", Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}},
		{name: "go-install-no-zip", bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/klankermaker/km", Version: "v1.2.0"}, Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "darwin"}, {Key: "GOARCH", Value: "amd64"},
		}}},
		{name: "no-build-info-linked-commit", linked: "feedfacefeedfacefeedfacefeedfacefeedface", zip: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			zipPath := filepath.Join(dir, "km-refresher.zip")
			if tc.zip {
				if err := os.WriteFile(zipPath, zipBytes, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			in := Collect(tc.bi, tc.linked, func(k string) string {
				if k == "KM_REFRESHER_ZIP" {
					return zipPath
				}
				return ""
			})
			var txt, js bytes.Buffer
			if err := WriteText(&txt, in); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, in); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".txt", strings.ReplaceAll(txt.String(), dir, "$DIR"))
			golden(t, tc.name+".json", strings.ReplaceAll(js.String(), dir, "$DIR"))
			if tc.zip {
				sum := sha256.Sum256(zipBytes)
				if in.Refresher.SHA256 != hex.EncodeToString(sum[:]) || !in.Refresher.Found {
					t.Errorf("refresher = %+v, want sha256 %x", in.Refresher, sum)
				}
			} else if in.Refresher.Found || in.Refresher.Error != "not found" || !strings.Contains(txt.String(), "refresher: not found") {
				t.Errorf("missing zip: %+v\n%s", in.Refresher, txt.String())
			}
		})
	}
}

// TestJSONFieldsDocumented: every JSON field km version prints is described
// in docs/version.md.
func TestJSONFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "version.md"))
	if err != nil {
		t.Fatal(err)
	}
	in := Info{CommitTime: "x", Refresher: Refresher{SHA256: "x", CodeSha256: "x", Size: 1, Error: "x"}}
	b, _ := json.Marshal(in)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for k, v := range m {
		fields = append(fields, k)
		if sub, ok := v.(map[string]any); ok {
			for k2 := range sub {
				fields = append(fields, k+"."+k2)
			}
		}
	}
	for _, f := range fields {
		if !strings.Contains(string(doc), "`"+f+"`") {
			t.Errorf("docs/version.md does not describe the JSON field `%s`", f)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/version -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (go test ./internal/version -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
