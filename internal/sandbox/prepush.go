package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klankermaker/km/profiles"
)

// ErrDenied is returned by PrePush when at least one ref was refused; the hook
// then exits 1 and git aborts the whole push.
var ErrDenied = errors.New("push denied by the profile's allowedRefs")

// deleteRef is what git writes as the local ref of a deletion.
const deleteRef = "(delete)"

// PushUpdate is one line of the pre-push hook's standard input (githooks(5)):
// "<local ref> SP <local sha> SP <remote ref> SP <remote sha> LF".
type PushUpdate struct {
	LocalRef, LocalSHA, RemoteRef, RemoteSHA string
}

// Deletion reports whether the update deletes the remote ref.
func (u PushUpdate) Deletion() bool {
	return u.LocalRef == deleteRef || strings.Trim(u.LocalSHA, "0") == ""
}

// Name is how a denial names the remote ref (profiles.RefDisplayName): a branch
// by its short name (refs/heads/release/v2 → release/v2), anything else by its
// full name (refs/tags/v1 stays refs/tags/v1, so a tag is never shown as the
// branch of the same name).
func (u PushUpdate) Name() string { return profiles.RefDisplayName(u.RemoteRef) }

// ParsePushUpdates reads the hook's standard input to the end. A line that is not
// four space-separated fields is an error (the hook then refuses the push: it
// fails closed).
func ParsePushUpdates(r io.Reader) ([]PushUpdate, error) {
	var out []PushUpdate
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 4 || f[0] == "" || f[1] == "" || f[2] == "" || f[3] == "" {
			return nil, fmt.Errorf("pre-push input line %d is not \"<local ref> <local sha> <remote ref> <remote sha>\": %q", n, line)
		}
		out = append(out, PushUpdate{LocalRef: f[0], LocalSHA: f[1], RemoteRef: f[2], RemoteSHA: f[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the pre-push input from git: %w", err)
	}
	return out, nil
}

// Allowed reports whether the settings let a push (or deletion) touch the full
// remote ref fullRef: the profile must grant push, and the ref must pass
// profiles.PushRefAllowed (branches match allowedRefs, tags only patterns
// starting refs/tags/), the same rule km proxy applies on the wire.
func (s Settings) Allowed(fullRef string) bool {
	return s.Push && profiles.PushRefAllowed(s.AllowedRefs, fullRef)
}

// Denied returns the names (PushUpdate.Name) of the refs among updates that the
// settings refuse, in input order, each once. Deletions are checked like any
// other update.
func (s Settings) Denied(updates []PushUpdate) []string {
	var denied []string
	seen := map[string]bool{}
	for _, u := range updates {
		n := u.Name()
		if !s.Allowed(u.RemoteRef) && !seen[n] {
			seen[n] = true
			denied = append(denied, n)
		}
	}
	return denied
}

// DenialMessage is the line the hook prints for a refused ref.
func DenialMessage(name string) string { return fmt.Sprintf("[km] Push to '%s' denied", name) }

// PrePush is the hook: it reads git's updates from stdin and, when any ref is
// refused, prints exactly one DenialMessage line per refused ref to stderr and
// returns ErrDenied.
func PrePush(s Settings, stdin io.Reader, stderr io.Writer) error {
	updates, err := ParsePushUpdates(stdin)
	if err != nil {
		return err
	}
	denied := s.Denied(updates)
	if len(denied) == 0 {
		return nil
	}
	for _, n := range denied {
		fmt.Fprintln(stderr, DenialMessage(n))
	}
	return ErrDenied
}
