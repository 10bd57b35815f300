package planapply

import (
	"context"
	"fmt"
	"strings"

	"github.com/klankermaker/km/reconcile"
)

// A declared github.privateKeyFile that does not exist on disk (a CI job
// that only plans) is not an error: plan keeps the App key SSM holds and
// says so; an apply fails only when it would have to upload the key
// because SSM holds none.

// keyFileNote returns the plan note for a missing key file ("" when the
// file is there or not declared), and an error when SSM holds no key
// either, so that an apply cannot go on.
func (s *Session) keyFileNote(ctx context.Context) (string, error) {
	g := s.Config.GitHub
	if !g.PrivateKeyMissing {
		return "", nil
	}
	name := s.Names.PrivateKeyParam()
	ps, err := s.AWS.DescribeParameters(ctx, s.Names.ConfigPath())
	if err != nil {
		return "", fmt.Errorf("github.privateKeyFile %s does not exist, and reading which App key SSM holds (%s) failed: %w", g.PrivateKeyFile, name, err)
	}
	for _, p := range ps {
		if p.Name != name {
			continue
		}
		fp := strings.TrimPrefix(p.Description, "km App private key ")
		if fp == p.Description || fp == "" {
			fp = "version " + fmt.Sprint(p.Version)
		}
		return fmt.Sprintf("github.privateKeyFile %s does not exist on this machine: the plan keeps the App private key SSM holds (%s, %s). Plans need no key file; to upload a new key, put the .pem there and apply.", g.PrivateKeyFile, name, fp), nil
	}
	return "", fmt.Errorf("github.privateKeyFile %s does not exist and SSM holds no App private key (%s) to keep; "+
		"put the App's .pem there (km github writes it under $XDG_CONFIG_HOME/km), or run `km configure github --private-key-file F --force`", g.PrivateKeyFile, name)
}

// noteKeyFile adds the note to a plan; with forApply an absent key in
// both places is an error.
func (s *Session) noteKeyFile(ctx context.Context, pl *reconcile.Planned, forApply bool) error {
	note, err := s.keyFileNote(ctx)
	if err != nil {
		if forApply {
			return err
		}
		pl.Plan.Warnings = append(pl.Plan.Warnings, err.Error())
		return nil
	}
	if note != "" {
		pl.Plan.Warnings = append(pl.Plan.Warnings, note)
	}
	return nil
}
