package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/klankermaker/km/state"
)

// Username is what the askpass answers to git's Username prompt: GitHub accepts
// installation tokens as the password of this user.
const Username = "x-access-token"

// ErrNoAnswer is wrapped when the askpass does not answer a prompt: another
// host, an owner the sandbox has no token for, or a prompt that is not git's
// Username/Password prompt. The helper then prints nothing and exits non-zero.
var ErrNoAnswer = errors.New("km gives no credentials for this prompt")

// ParameterReader reads one SSM parameter (state.AWS implements it).
type ParameterReader interface {
	GetParameter(ctx context.Context, name string, decrypt bool) (state.Parameter, error)
}

// Opener returns a ParameterReader for region. The askpass calls it only when it
// is about to read a token, so Username prompts and refusals never touch AWS.
type Opener func(ctx context.Context, region string) (ParameterReader, error)

// Prompt is one of git's credential prompts, such as
// "Password for 'https://x-access-token@github.com/owner/repo.git': ".
type Prompt struct {
	Kind string   // "Username" or "Password"
	URL  *url.URL // what git described: scheme, user (maybe), host, path (with useHttpPath)
}

// ParsePrompt parses git's "<Kind> for '<url>': " prompt.
func ParsePrompt(p string) (Prompt, error) {
	var kind string
	for _, k := range []string{"Username", "Password"} {
		if strings.HasPrefix(p, k+" for '") {
			kind = k
			break
		}
	}
	if kind == "" {
		return Prompt{}, fmt.Errorf("%w: %q is not git's Username or Password prompt", ErrNoAnswer, p)
	}
	rest := strings.TrimPrefix(p, kind+" for '")
	end := strings.LastIndex(rest, "'")
	if end < 0 || strings.TrimSpace(rest[end+1:]) != ":" {
		return Prompt{}, fmt.Errorf("%w: %q is not git's Username or Password prompt", ErrNoAnswer, p)
	}
	u, err := url.Parse(rest[:end])
	if err != nil || u.Host == "" {
		return Prompt{}, fmt.Errorf("%w: the prompt names no URL with a host", ErrNoAnswer)
	}
	return Prompt{Kind: kind, URL: u}, nil
}

// OwnerFor returns the owner entry for a URL git asks about, or an error
// wrapping ErrNoAnswer when the URL is not on the sandbox's git host or names an
// owner the sandbox has no token for. Without a path (credential.useHttpPath
// off) it answers only for a single-owner sandbox.
func (s Settings) OwnerFor(u *url.URL) (OwnerParam, error) {
	base, err := url.Parse(s.GitURL)
	if err != nil {
		return OwnerParam{}, fmt.Errorf("gitURL in the settings: %w", err)
	}
	if hostKey(u) != hostKey(base) {
		return OwnerParam{}, fmt.Errorf("%w: %s is not the sandbox's git host %s", ErrNoAnswer, hostKey(u), hostKey(base))
	}
	rest := strings.Trim(u.Path, "/")
	if bp := strings.Trim(base.Path, "/"); bp != "" {
		if rest != bp && !strings.HasPrefix(rest, bp+"/") {
			return OwnerParam{}, fmt.Errorf("%w: %s is outside %s", ErrNoAnswer, u.Path, s.GitURL)
		}
		rest = strings.Trim(strings.TrimPrefix(rest, bp), "/")
	}
	if rest == "" {
		if len(s.Owners) == 1 {
			return s.Owners[0], nil
		}
		return OwnerParam{}, fmt.Errorf("%w: git did not say which repository (credential.%s.useHttpPath is off) and sandbox %s has tokens for %d owners; re-run km sandbox init",
			ErrNoAnswer, hostKey(base), s.SandboxID, len(s.Owners))
	}
	owner, _, _ := strings.Cut(rest, "/")
	owner = strings.ToLower(owner)
	for _, o := range s.Owners {
		if o.Owner == owner {
			return o, nil
		}
	}
	for _, o := range s.Owners {
		if o.Owner == "*" { // allowedRepos "*" without a default installation: one token for every owner
			return o, nil
		}
	}
	return OwnerParam{}, fmt.Errorf("%w: sandbox %s has no token for owner %q (profile %s)", ErrNoAnswer, s.SandboxID, owner, s.Profile)
}

// Answer returns what the askpass prints for prompt: "x-access-token" for the
// Username prompt, and for the Password prompt the owner's token, read from SSM
// (GetParameter with decryption) now. It never caches the token.
func Answer(ctx context.Context, s Settings, prompt string, open Opener) (string, error) {
	p, err := ParsePrompt(prompt)
	if err != nil {
		return "", err
	}
	o, err := s.OwnerFor(p.URL)
	if err != nil {
		return "", err
	}
	if p.Kind == "Username" {
		return Username, nil
	}
	params, err := open(ctx, s.Region)
	if err != nil {
		return "", fmt.Errorf("connecting to SSM to read the token of %s: %w", o.Owner, err)
	}
	par, err := params.GetParameter(ctx, o.Parameter, true)
	if err != nil {
		return "", fmt.Errorf("reading the token of %s from SSM parameter %s: %w; check that km apply created it and that this sandbox's role may ssm:GetParameter it and kms:Decrypt with its key",
			o.Owner, o.Parameter, err)
	}
	token := strings.TrimSpace(par.Value)
	if token == "" {
		return "", fmt.Errorf("SSM parameter %s (token of %s) is empty; run km apply", o.Parameter, o.Owner)
	}
	return token, nil
}

// Askpass writes Answer's result and a newline to w (git reads one line).
func Askpass(ctx context.Context, s Settings, prompt string, open Opener, w io.Writer) error {
	a, err := Answer(ctx, s, prompt, open)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, a+"\n"); err != nil {
		return fmt.Errorf("writing the answer to git: %w", err)
	}
	return nil
}
