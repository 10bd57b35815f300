package kmyaml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/testkeys"
)

func TestSetGitHubNeverEchoesKey(t *testing.T) {
	key := string(testkeys.NewPEM(t, false))
	p := filepath.Join(t.TempDir(), "km.yaml")
	if err := os.WriteFile(p, []byte("region: us-east-1\ngithub:\n  appClientId: Iv1.abc123\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, u := range []GitHubUpdate{{PrivateKeyFile: &key}, {AppClientID: &key}} {
		_, err := SetGitHub(p, u)
		if err == nil {
			t.Fatal("SetGitHub accepted key material as a value")
		}
		for _, l := range strings.Split(key, "\n") {
			if l != "" && !strings.HasPrefix(l, "-----") && strings.Contains(err.Error(), l) {
				t.Fatalf("error contains key material: %v", err)
			}
		}
	}
}
