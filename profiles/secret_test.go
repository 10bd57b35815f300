package profiles

import (
	"strings"
	"testing"
)

// indent prefixes every line of s with n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
}

// TestSecretsNeverInErrors feeds a real RSA key (and a token) through every path
// where it could reach an error message and asserts that no part of it does.
func TestSecretsNeverInErrors(t *testing.T) {
	key := rsaPEM(t, false)
	body := pemBody(key)
	lines := strings.Split(string(key), "\n")
	// Corrupt the DER but keep valid base64: swap two body lines.
	corrupt := append([]string(nil), lines...)
	corrupt[2], corrupt[3] = corrupt[3], corrupt[2]
	const token = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
	withKeyFile := patch(t, baseKM, "  appClientId: Iv1.abc123\n", "  appClientId: Iv1.abc123\n  privateKeyFile: app.pem\n")

	cases := []struct {
		name  string
		files map[string]string
		load  string
		frag  string // a fragment of the expected error, proving the path was exercised
	}{
		{
			name:  "valid key, typo elsewhere",
			files: map[string]string{"km.yaml": patch(t, withKeyFile, "region:", "regon:"), "app.pem": string(key)},
			frag:  `unknown key "regon"`,
		},
		{
			name:  "corrupted key",
			files: map[string]string{"km.yaml": withKeyFile, "app.pem": strings.Join(corrupt, "\n")},
			frag:  "neither a PKCS#1 nor a PKCS#8 private key",
		},
		{
			name:  "key pasted as privateKeyFile",
			files: map[string]string{"km.yaml": patch(t, baseKM, "  appClientId: Iv1.abc123\n", "  appClientId: Iv1.abc123\n  privateKeyFile: |\n"+indent(string(key), 4))},
			frag:  "holds what looks like key material, not a path",
		},
		{
			name:  "key pasted as appClientId",
			files: map[string]string{"km.yaml": patch(t, baseKM, "  appClientId: Iv1.abc123\n", "  appClientId: |\n"+indent(string(key), 4))},
			frag:  "github.appClientId: found (a value that looks like a key or token, not shown)",
		},
		{
			name:  "key pasted as a sandbox id",
			files: map[string]string{"km.yaml": patch(t, baseKM, "  - id: sb-1\n", "  - id: |\n"+indent(string(key), 6))},
			frag:  "sandbox id (a value that looks like a key or token, not shown) is malformed",
		},
		{
			name:  "key pasted as an installation id",
			files: map[string]string{"km.yaml": patch(t, baseKM, "    my-user: 12345678\n", "    my-user: |\n"+indent(string(key), 6))},
			frag:  "found the string (a value that looks like a key or token, not shown)",
		},
		{
			name:  "token as appClientId",
			files: map[string]string{"km.yaml": patch(t, baseKM, "Iv1.abc123", token)},
			frag:  "github.appClientId: found (a value that looks like a key or token, not shown)",
		},
		{
			name:  "the key file given as km.yaml",
			files: map[string]string{"km.yaml": baseKM, "app.pem": string(key)},
			load:  "app.pem",
			frag:  "app.pem:1:1: km.yaml: found the string (a value that looks like a key or token, not shown)",
		},
		{
			name:  "the key file dropped among the profiles",
			files: map[string]string{"km.yaml": baseKM, "profiles/app.yaml": string(key)},
			frag:  "profiles/app.yaml:1:1: profile: found the string (a value that looks like a key or token, not shown)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"profiles/p.yaml": baseProfile}
			for k, v := range c.files {
				files[k] = v
			}
			inTempDir(t, files)
			load := c.load
			if load == "" {
				load = "km.yaml"
			}
			_, err := Load(load)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.frag) {
				t.Errorf("error does not contain %q:\n%s", c.frag, msg)
			}
			for _, l := range body {
				if strings.Contains(msg, l) {
					t.Fatalf("error contains key material %q:\n%s", l, msg)
				}
			}
			for _, l := range corrupt {
				if len(l) > 20 && !strings.HasPrefix(l, "-----") && strings.Contains(msg, l) {
					t.Fatalf("error contains key material %q", l)
				}
			}
			if strings.Contains(msg, token) || strings.Contains(msg, "ghs_") {
				t.Fatalf("error contains the token:\n%s", msg)
			}
		})
	}
}
