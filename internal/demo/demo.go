// Package demo writes a ready-to-run declaration for the local simulators: an App
// created in the GitHub simulator (its key written to a file), installations for
// two accounts, a profile and a sandbox. cmd/km-sim and the integration tests use
// it. It must not import cmd/*.
package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klankermaker/km/internal/githubsim"
)

// Options shape the declaration.
type Options struct {
	Prefix    string   // default km
	Sandboxes []string // default sb-demo01
	// UserRepos are my-user's repositories (default my-repo, other-repo).
	UserRepos []string
	// OrgRepos are my-org's repositories (default api, web).
	OrgRepos []string
	// User and Org are the account logins (default my-user, my-org).
	User, Org string
}

// Written describes what was written.
type Written struct {
	ConfigPath  string
	KeyPath     string
	ProfilesDir string
	ClientID    string
	UserInst    int64
	OrgInst     int64
}

// Write creates the App and installations in sim and writes km.yaml, profiles/
// and app.pem under dir.
func Write(sim *githubsim.Server, dir string, o Options) (Written, error) {
	if o.Prefix == "" {
		o.Prefix = "km"
	}
	if o.Sandboxes == nil {
		o.Sandboxes = []string{"sb-demo01"}
	}
	if o.User == "" {
		o.User = "my-user"
	}
	if o.Org == "" {
		o.Org = "my-org"
	}
	if o.UserRepos == nil {
		o.UserRepos = []string{"my-repo", "other-repo"}
	}
	if o.OrgRepos == nil {
		o.OrgRepos = []string{"api", "web"}
	}
	var w Written
	app, pem, err := sim.CreateApp("klanker-maker-sandbox")
	if err != nil {
		return w, fmt.Errorf("creating the App in the simulator: %w", err)
	}
	w.ClientID = app.ClientID
	perms := map[string]string{"contents": "write", "metadata": "read"}
	for _, r := range o.UserRepos {
		if err := sim.AddRepo(o.User, r); err != nil {
			return w, err
		}
	}
	for _, r := range o.OrgRepos {
		if err := sim.AddRepo(o.Org, r); err != nil {
			return w, err
		}
	}
	w.UserInst = sim.AddInstallation(o.User, "User", o.UserRepos, perms)
	w.OrgInst = sim.AddInstallation(o.Org, "Organization", nil, perms)

	w.ProfilesDir = filepath.Join(dir, "profiles")
	if err := os.MkdirAll(w.ProfilesDir, 0o755); err != nil {
		return w, err
	}
	w.KeyPath = filepath.Join(dir, "app.pem")
	if err := os.WriteFile(w.KeyPath, pem, 0o600); err != nil {
		return w, err
	}
	profile := fmt.Sprintf(`apiVersion: klankermaker.ai/v1alpha1
kind: SandboxProfile
metadata:
  name: my-profile
spec:
  network:
    egress: [github.com]
  sourceAccess:
    github:
      allowedRepos: [%s/%s, %s/*]
      allowedRefs: [main, "release/*"]
      permissions: [clone, fetch, push]
`, o.User, o.UserRepos[0], o.Org)
	if err := os.WriteFile(filepath.Join(w.ProfilesDir, "my-profile.yaml"), []byte(profile), 0o644); err != nil {
		return w, err
	}
	var sb strings.Builder
	for _, id := range o.Sandboxes {
		fmt.Fprintf(&sb, "  - id: %s\n    profile: my-profile\n    principal: arn:aws:iam::123456789012:role/km-sandbox-%s\n", id, id)
	}
	cfg := fmt.Sprintf(`# km demo declaration, written by km-sim.
region: us-east-1
prefix: %s
github:
  appClientId: %s
  appId: %d
  privateKeyFile: app.pem
  apiURL: %s
  webURL: %s
  installations:
    %s: %d
    %s: %d
  defaultInstallation: %s
refresher:
  schedule: rate(45 minutes)
  memoryMB: 128
  timeoutSeconds: 60
  logRetentionDays: 30
  architecture: arm64
profilesDir: profiles
sandboxes:
%s`, o.Prefix, app.ClientID, app.ID, sim.URL, sim.URL, o.User, w.UserInst, o.Org, w.OrgInst, o.User, sb.String())
	w.ConfigPath = filepath.Join(dir, "km.yaml")
	if err := os.WriteFile(w.ConfigPath, []byte(cfg), 0o644); err != nil {
		return w, err
	}
	return w, nil
}
