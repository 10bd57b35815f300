package githubapp

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestNewManifestJSON(t *testing.T) {
	m := NewManifest("klanker-maker-sandbox", "http://127.0.0.1:8765/callback")
	js, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name":                "klanker-maker-sandbox",
		"url":                 DefaultAppURL,
		"description":         m.Description,
		"redirect_url":        "http://127.0.0.1:8765/callback",
		"public":              true,
		"default_permissions": map[string]any{"contents": "write", "metadata": "read"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("manifest JSON = %s\nwant keys and values %v", js, want)
	}
	if _, ok := got["hook_attributes"]; ok {
		t.Error("manifest carries a webhook; km's App needs none")
	}

	m.HookAttributes = &HookAttributes{URL: "https://example.com/hook"}
	js, _ = m.JSON()
	if !strings.Contains(js, `"hook_attributes":{"url":"https://example.com/hook","active":false}`) {
		t.Errorf("hook_attributes not as GitHub documents it: %s", js)
	}
}

func TestManifestFormURL(t *testing.T) {
	tests := []struct{ web, org, state, want string }{
		{"", "", "s1", "https://github.com/settings/apps/new?state=s1"},
		{"https://github.com/", "my-org", "a b", "https://github.com/organizations/my-org/settings/apps/new?state=a+b"},
		{"https://ghe.example.com", "", "x", "https://ghe.example.com/settings/apps/new?state=x"},
	}
	for _, tt := range tests {
		if got := ManifestFormURL(tt.web, tt.org, tt.state); got != tt.want {
			t.Errorf("ManifestFormURL(%q, %q, %q) = %q, want %q", tt.web, tt.org, tt.state, got, tt.want)
		}
	}
}

func TestAppCredentialsNeverPrintPEM(t *testing.T) {
	pemBytes := pkcs1PEM(t, newRSAKey(t))
	creds := AppCredentials{ID: 1, Slug: "km", ClientID: "Iv1.x", PEM: pemBytes}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outs = append(outs, fmt.Sprintf(f, creds), fmt.Sprintf(f, &creds), fmt.Sprintf(f, []AppCredentials{creds}))
	}
	js, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("created", "app", creds)
	outs = append(outs, string(js), logged.String())
	for _, o := range outs {
		assertNoKeyMaterial(t, o, pemBytes)
		if strings.Contains(o, "PRIVATE KEY") {
			t.Errorf("output mentions the key block: %s", o)
		}
	}
	if !strings.Contains(fmt.Sprint(creds), "Iv1.x") {
		t.Errorf("non-secret fields lost: %v", creds)
	}
}
