package sandboxes

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/klankermaker/km/internal/atomicfile"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/profiles/kmyaml"
	"github.com/klankermaker/km/reconcile"
)

// CreateOptions are km create's flags.
type CreateOptions struct {
	Profile     string // a profile name or a path to a profile file
	ID          string // generated when empty
	Principal   string
	AutoApprove bool
	LockTimeout time.Duration
	Color       bool
}

// NewSandboxID returns "sb-" and 8 random lowercase letters and digits.
func NewSandboxID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "sb-" + string(b)
}

// resolveProfileName accepts a profile name or a path to a profile file.
func resolveProfileName(cfg *profiles.Config, arg string) (string, error) {
	if cfg.Profile(arg) != nil {
		return arg, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return "", fmt.Errorf("profile %q: not a profile name in %s and not a readable file (%v)", arg, cfg.ProfilesDir, err)
	}
	var doc struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil || doc.Metadata.Name == "" {
		return "", fmt.Errorf("%s: expected a SandboxProfile with metadata.name", arg)
	}
	if cfg.Profile(doc.Metadata.Name) == nil {
		return "", fmt.Errorf("%s: profile %q is not in profilesDir %s; copy the file there so km.yaml can refer to it", arg, doc.Metadata.Name, cfg.ProfilesDir)
	}
	return doc.Metadata.Name, nil
}

func onlySandbox(id string) func(string) bool {
	p := `sandbox["` + id + `"]`
	return func(addr string) bool { return strings.HasPrefix(addr, p) }
}

// Create adds a sandbox to km.yaml (comments kept) and applies only its
// resources (and the shared ones they need). If anything fails, km.yaml is left
// as it was. It returns the sandbox id.
func Create(ctx context.Context, e planapply.Env, o CreateOptions) (string, error) {
	cfg, err := planapply.LoadConfig(e)
	if err != nil {
		return "", err
	}
	if !cfg.GitHubConfigured() {
		return "", reconcile.ErrGitHubNotConfigured
	}
	name, err := resolveProfileName(cfg, o.Profile)
	if err != nil {
		return "", err
	}
	id := o.ID
	if id == "" {
		id = NewSandboxID()
	}
	if err := profiles.CheckSandboxID(id, cfg.Prefix); err != nil {
		return "", fmt.Errorf("--id %s: %w", id, err)
	}
	if _, exists := cfg.Sandbox(id); exists {
		return "", fmt.Errorf("sandbox %s is already in %s", id, cfg.File)
	}
	original, err := kmyaml.AddSandbox(cfg.File, profiles.Sandbox{ID: id, Profile: name, Principal: o.Principal})
	if err != nil {
		return "", fmt.Errorf("adding %s to %s: %w", id, cfg.File, err)
	}
	restore := func(cause error) error {
		if werr := atomicfile.Write(cfg.File, original, 0o644); werr != nil {
			return errors.Join(cause, fmt.Errorf("restoring %s: %w", cfg.File, werr))
		}
		return fmt.Errorf("%w (km.yaml left unchanged)", cause)
	}
	s, err := planapply.Open(ctx, e)
	if err != nil {
		return "", restore(err)
	}
	err = s.PlanAndApply(ctx, planapply.ApplyOptions{
		PlanOptions: planapply.PlanOptions{Only: onlySandbox(id), LockTimeout: o.LockTimeout, Color: o.Color},
		AutoApprove: o.AutoApprove,
	})
	if err != nil {
		return "", restore(err)
	}
	return id, nil
}

// DestroyOptions are km destroy's flags.
type DestroyOptions struct {
	ID          string
	AutoApprove bool
	LockTimeout time.Duration
	Color       bool
}

// Destroy removes the sandbox from km.yaml and applies the teardown of its
// resources, after the usual approval: the schedule is deleted first, then
// the refresher revokes every version of every token at GitHub, then the
// token parameters and the alias are deleted and the key is scheduled for
// deletion in 7 days. Nothing is revoked or changed before the approval:
// answering anything but yes restores km.yaml and leaves the sandbox as it
// was.
func Destroy(ctx context.Context, e planapply.Env, o DestroyOptions) error {
	cfg, err := planapply.LoadConfig(e)
	if err != nil {
		return err
	}
	if _, ok := cfg.Sandbox(o.ID); !ok {
		return fmt.Errorf("sandbox %s is not in %s", o.ID, cfg.File)
	}
	original, err := kmyaml.RemoveSandbox(cfg.File, o.ID)
	if err != nil {
		return fmt.Errorf("removing %s from %s: %w", o.ID, cfg.File, err)
	}
	s, err := planapply.Open(ctx, e)
	if err == nil {
		err = s.PlanAndApply(ctx, planapply.ApplyOptions{
			PlanOptions: planapply.PlanOptions{Only: onlySandbox(o.ID), LockTimeout: o.LockTimeout, Color: o.Color, NoDestroyGuard: true},
			AutoApprove: o.AutoApprove,
		})
	}
	if err != nil {
		if werr := atomicfile.Write(cfg.File, original, 0o644); werr != nil {
			return errors.Join(err, werr)
		}
		return fmt.Errorf("%w (km.yaml left unchanged)", err)
	}
	return nil
}

// SandboxStatus is one row of km list.
type SandboxStatus struct {
	ID            string    `json:"id"`
	Profile       string    `json:"profile,omitempty"`
	Owners        []string  `json:"owners"`
	TokenExpires  time.Time `json:"token_expires_at,omitempty"`
	TokenMinted   time.Time `json:"-"` // of the token that expires first
	TokenAge      string    `json:"token_age,omitempty"`
	ScheduleState string    `json:"schedule_state,omitempty"`
	Status        string    `json:"status"` // ok, drifted, orphaned, expired, missing
	// TokenOwners are the owners of the tokens the sandbox holds now, by
	// their parameters' metadata (Owners is what km.yaml declares).
	TokenOwners []string `json:"token_owners,omitempty"`
	// Unrevoked are tokens km retired but could not revoke, until they expire.
	Unrevoked []sandboxtoken.Unrevoked `json:"unrevoked,omitempty"`
}

// List is km list: it reports every declared sandbox and every km-managed
// sandbox found live through s.
func List(ctx context.Context, s *planapply.Session) ([]SandboxStatus, error) {
	pl, err := s.ComputePlan(ctx, "list", planapply.PlanOptions{})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if s.Env.Now != nil {
		now = s.Env.Now()
	}
	rows := map[string]*SandboxStatus{}
	row := func(id string) *SandboxStatus {
		if rows[id] == nil {
			rows[id] = &SandboxStatus{ID: id, Status: StatusOK}
		}
		return rows[id]
	}
	for _, sb := range s.Config.Sandboxes {
		r := row(sb.ID)
		r.Profile = sb.Profile
		if p := s.Config.Profile(sb.Profile); p != nil {
			r.Owners = s.Config.OwnersOf(p)
		}
	}
	n := names.New(s.Config.Prefix)
	for _, l := range pl.Live {
		if l.Sandbox == "" {
			continue
		}
		r := row(l.Sandbox)
		if m, ok := reconcile.LiveTokenMeta(l); ok {
			if r.TokenExpires.IsZero() || m.ExpiresAt.Before(r.TokenExpires) {
				r.TokenExpires, r.TokenMinted = m.ExpiresAt, m.MintedAt
				r.TokenAge = now.Sub(m.MintedAt).Round(time.Minute).String()
			}
			if _, declared := s.Config.Sandbox(l.Sandbox); !declared {
				r.Owners = appendUnique(r.Owners, m.Owner)
			}
			r.TokenOwners = appendUnique(r.TokenOwners, m.Owner)
		}
		if l.Type == reconcile.TypeSchedule && l.ID == n.Schedule(l.Sandbox) {
			r.ScheduleState = l.Attrs["state"]
		}
	}
	for _, c := range pl.Plan.Changes {
		if c.Sandbox == "" {
			continue
		}
		r := row(c.Sandbox)
		_, declared := s.Config.Sandbox(c.Sandbox)
		r.Status = reconcile.FoldSandboxStatus(r.Status, &c, declared)
	}
	unrevoked, err := s.Unrevoked(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range unrevoked {
		r := row(u.Sandbox)
		r.Unrevoked = append(r.Unrevoked, u)
		if _, declared := s.Config.Sandbox(u.Sandbox); !declared && r.Status == "ok" {
			r.Status = StatusDestroyed
		}
	}
	out := make([]SandboxStatus, 0, len(rows))
	for _, r := range rows {
		sort.Strings(r.TokenOwners)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
