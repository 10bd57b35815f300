package githubsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// initialCommitTime (2024-01-01T00:00:00Z) makes the initial commit, and so
// its SHA, reproducible.
const initialCommitTime = 1704067200

// AddRepo creates the repository owner/name: a bare git repository at
// {GitRoot}/{owner}/{name}.git with one commit on main (README.md), known to
// the API (owner becomes a User account unless already known). It fails if
// the repository already exists on disk.
func (s *Server) AddRepo(owner, name string) error {
	if !validName.MatchString(owner) || !validName.MatchString(name) || strings.HasSuffix(name, ".git") {
		return fmt.Errorf("githubsim: AddRepo %q/%q: owner and name may hold letters, digits, '.', '_' and '-' only (no .git suffix)", owner, name)
	}
	s.mu.Lock()
	a := s.st.ensureAccount(owner, "")
	rp := s.st.ensureRepo(a, name, s.now())
	onDisk, dir := rp.OnDisk, s.repoDir(rp)
	s.mu.Unlock()
	if onDisk {
		return fmt.Errorf("githubsim: AddRepo %s/%s: the repository already exists", owner, name)
	}
	if err := s.initBareRepo(dir, owner+"/"+name); err != nil {
		return err
	}
	s.mu.Lock()
	rp.OnDisk = true
	s.mu.Unlock()
	return nil
}

// RepoPath is the directory of the bare repository owner/name (whether or
// not it exists).
func (s *Server) RepoPath(owner, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp := s.st.findRepo(owner, name); rp != nil {
		return s.repoDir(rp)
	}
	return filepath.Join(s.gitRoot, owner, name+".git")
}

func (s *Server) repoDir(rp *repo) string {
	return filepath.Join(s.gitRoot, rp.Owner.Login, rp.Name+".git")
}

// gitEnv isolates git from the user's and the system's configuration.
func (s *Server) gitEnv() []string {
	return []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"HOME=" + s.gitRoot,
		"GIT_TERMINAL_PROMPT=0",
	}
}

func (s *Server) initBareRepo(dir, fullName string) error {
	git, err := exec.LookPath("git")
	if err != nil {
		return fmt.Errorf("githubsim: the git CLI is needed for repositories: %w", err)
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("githubsim: %s already exists; remove it or use another git root", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("githubsim: inspect %s: %w", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(stdin string, args ...string) error {
		cmd := exec.CommandContext(ctx, git, args...)
		cmd.Env = append(os.Environ(), s.gitEnv()...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("githubsim: git %s for %s: %w: %s", args[0], fullName, err, strings.TrimSpace(out.String()))
		}
		return nil
	}
	if err := run("", "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return err
	}
	readme := "# " + fullName + "\n"
	msg := "Initial commit\n"
	ident := fmt.Sprintf("GitHub Simulator <sim@example.invalid> %d +0000", initialCommitTime)
	stream := fmt.Sprintf("commit refs/heads/main\nauthor %s\ncommitter %s\ndata %d\n%sM 100644 inline README.md\ndata %d\n%s\n",
		ident, ident, len(msg), msg, len(readme), readme)
	return run(stream, "--git-dir="+dir, "fast-import", "--quiet")
}
