package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/state"
)

// Kind reconciles one resource type: it reads the live resources of its type in
// bulk, diffs one desired resource against its live counterpart, and applies one
// change. Adding a kind is one file and one line in kinds().
type Kind interface {
	Type() string
	// Read returns the live resources of this type: those matching desired and, in
	// km's own namespace, any others (orphans).
	Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error)
	// Diff decides the action for a desired/live pair (either may be nil).
	Diff(rt *Runtime, desired, live *Resource) (Action, string)
	// Apply executes one change and returns the resulting live attributes (at
	// least those other resources reference, such as arn or key_id).
	Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error)
}

func kinds() []Kind {
	return []Kind{
		configParamKind{},
		roleKind{},
		logGroupKind{},
		functionKind{},
		scheduleGroupKind{},
		keyKind{},
		aliasKind{},
		tokenKind{},
		scheduleKind{},
	}
}

func kindOf(typ string) Kind {
	for _, k := range kinds() {
		if k.Type() == typ {
			return k
		}
	}
	return nil
}

// Minter mints installation tokens (githubapp.Client implements it).
type Minter interface {
	CreateToken(ctx context.Context, req githubapp.TokenRequest) (githubapp.Token, error)
}

// MintedRevoker is implemented by a Minter that can revoke a token it just
// minted: apply revokes a token whose grant failed verification (it was
// never stored, so nobody else could).
type MintedRevoker interface {
	RevokeMinted(ctx context.Context, tok githubapp.Token) error
}

// Runtime is what kinds need while reading and applying.
type Runtime struct {
	AWS     AWS
	Names   names.Names
	Region  string
	Account string
	Now     func() time.Time
	// Minter returns the token minter; called only when a token must be minted,
	// so a no-op apply makes no GitHub call.
	Minter func(ctx context.Context) (Minter, error)
	// Zip is the refresher deployment package.
	Zip []byte
	// Progress receives Terraform-style progress lines during apply.
	Progress io.Writer
	// TokenMargin: a token expiring within it counts as expired (default 10m).
	TokenMargin time.Duration
	// ReadParallelism bounds concurrent per-sandbox reads (default 16).
	ReadParallelism int
	// Revoker revokes the tokens apply retires (nil: none can be revoked;
	// each is recorded as unrevoked, see revoke.go).
	Revoker Revoker

	memo       memo
	sandboxIDs []string
	planned    map[string]Action
	unrevoked  *unrevokedLog
}

func (rt *Runtime) readParallelism() int {
	if rt.ReadParallelism > 0 {
		return rt.ReadParallelism
	}
	return 16
}

func (rt *Runtime) tokenMargin() time.Duration {
	if rt.TokenMargin > 0 {
		return rt.TokenMargin
	}
	return 10 * time.Minute
}

func isUnsupported(err error) bool { return errors.Is(err, state.ErrUnsupported) }

func (rt *Runtime) now() time.Time {
	if rt.Now != nil {
		return rt.Now()
	}
	return time.Now()
}

// diffAttrs compares the attributes of desired and live. It returns Update with
// the names of changed attributes, or Replace when one of forceNew changed.
func diffAttrs(desired, live *Resource, forceNew ...string) (Action, string) {
	var changed []string
	for k, v := range desired.Attrs {
		if v == Unknown {
			continue
		}
		if lv, ok := live.Attrs[k]; !ok || !EqualAttr(v, lv) {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return NoOp, ""
	}
	sort.Strings(changed)
	for _, c := range changed {
		for _, f := range forceNew {
			if c == f {
				return Replace, fmt.Sprintf("%s cannot be changed in place", c)
			}
		}
	}
	return Update, "live " + strings.Join(changed, ", ") + " differs from the declaration"
}

// EqualAttr reports whether two attribute values are equal, JSON documents
// compared after normalisation.
func EqualAttr(a, b string) bool {
	if a == b {
		return true
	}
	na, ea := normalizeJSON(a)
	nb, eb := normalizeJSON(b)
	return ea == nil && eb == nil && na == nb
}

func isNotFound(err error) bool { return errors.Is(err, state.ErrNotFound) }

func isExists(err error) bool { return errors.Is(err, state.ErrAlreadyExists) }

// tags km puts on what it creates.
func (rt *Runtime) tags(sandbox string) map[string]string {
	t := map[string]string{names.TagManaged: "true", names.TagPrefix: rt.Names.Prefix}
	if sandbox != "" {
		t[names.TagSandbox] = sandbox
	}
	return t
}
