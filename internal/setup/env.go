package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klankermaker/km/internal/atomicfile"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/profiles"
)

// configSlice selects the App configuration parameters (/{prefix}/config/github/*)
// in a plan: the only resources km github and km configure github change.
func configSlice(addr string) bool { return strings.HasPrefix(addr, "aws_ssm_parameter.") }

func out(e planapply.Env) io.Writer {
	if e.Stdout == nil {
		return io.Discard
	}
	return e.Stdout
}

// loadForSetup loads km.yaml without the App and installation checks (what km
// github and km configure github are run to fix; see profiles.LoadForSetup).
func loadForSetup(e planapply.Env) (*profiles.Config, error) {
	cfg, err := profiles.LoadForSetup(e.ConfigPath)
	if err != nil {
		return nil, err
	}
	cfg.ApplyEnv(e.Lookup)
	return cfg, nil
}

// loadOrDefault loads km.yaml, or, when the file does not exist yet, returns the
// defaults km.yaml would have (exists is then false) so that km github and km
// configure github can create it.
func loadOrDefault(e planapply.Env) (cfg *profiles.Config, exists bool, err error) {
	cfg, err = loadForSetup(e)
	if err == nil {
		return cfg, true, nil
	}
	if _, statErr := os.Stat(e.ConfigPath); !errors.Is(statErr, fs.ErrNotExist) {
		return nil, false, err
	}
	abs, aerr := filepath.Abs(e.ConfigPath)
	if aerr != nil {
		return nil, false, fmt.Errorf("resolving the km config path %s: %w", e.ConfigPath, aerr)
	}
	cfg = &profiles.Config{
		File: abs, Path: e.ConfigPath, Dir: filepath.Dir(abs),
		Prefix:      profiles.DefaultPrefix,
		GitHub:      profiles.GitHub{APIURL: profiles.DefaultAPIURL, WebURL: profiles.DefaultWebURL},
		Refresher:   profiles.DefaultRefresher(),
		ProfilesDir: filepath.Join(filepath.Dir(abs), profiles.DefaultProfilesDir),
		Profiles:    map[string]*profiles.Profile{},
	}
	cfg.ApplyEnv(e.Lookup)
	return cfg, false, nil
}

// applyConfigSlice plans and applies only /{prefix}/config/github/* for cfg,
// printing the plan and the apply progress. Sandboxes are left out of the
// declaration for this: the config slice never depends on them, and a fresh
// App has no installations yet (which would otherwise be ErrGitHubNotConfigured).
func applyConfigSlice(ctx context.Context, e planapply.Env, cfg *profiles.Config) error {
	c := *cfg
	c.Sandboxes = nil
	s, err := planapply.OpenWith(ctx, e, &c)
	if err != nil {
		return err
	}
	return s.PlanAndApply(ctx, planapply.ApplyOptions{
		PlanOptions: planapply.PlanOptions{Only: configSlice},
		AutoApprove: true,
	})
}

// restoreConfig puts km.yaml back as it was before an edit (original nil: the
// edit created the file, so remove it).
func restoreConfig(path string, original []byte) error {
	if original == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", path, err)
		}
		return nil
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	return atomicfile.Write(path, original, perm)
}

// relToConfig turns a path given on the command line into one for km.yaml:
// relative to km.yaml's folder when it lies inside it, absolute otherwise.
func relToConfig(cfg *profiles.Config, p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", p, err)
	}
	if rel, err := filepath.Rel(cfg.Dir, abs); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
		return rel, nil
	}
	return abs, nil
}
