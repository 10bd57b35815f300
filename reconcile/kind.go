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

// Kind owns one resource type's whole lifecycle: it builds its desired
// resources from the declaration, names the kinds it depends on (delete order
// is derived from them), reads the live resources of its type (in bulk for a
// plan, or only given addresses for a saved plan), diffs one desired resource
// against its live counterpart, and applies one change. Its AWS calls go
// through one small interface declared in its file. Adding a kind is one file
// and one line in kinds(); README.md walks through it.
type Kind interface {
	Type() string
	// Desired builds the resources of this type the declaration asks for.
	Desired(d *decl) ([]*Resource, error)
	// DependsOn lists the types this kind's resources may reference or need
	// first; deletions run in the reverse order (deleteRanks).
	DependsOn() []string
	// Read returns the live resources of this type: those matching desired and, in
	// km's own namespace, any others (orphans).
	Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error)
	// ReadTouched returns the live resources of this type among touched
	// (address -> type of everything a saved plan touches or references),
	// reading no more than those need (precheck.go).
	ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error)
	// Diff decides the action for a desired/live pair (either may be nil).
	Diff(rt *Runtime, desired, live *Resource) (Action, string)
	// Apply executes one change and returns the resulting live attributes (at
	// least those other resources reference, such as arn or key_id).
	Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error)
}

// kinds is the registration: every kind km plans, in dependency order.
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

func kindOf(typ string) Kind { return kindIn(kinds(), typ) }

func kindIn(ks []Kind, typ string) Kind {
	for _, k := range ks {
		if k.Type() == typ {
			return k
		}
	}
	return nil
}

// kinds are the registered kinds plus any a test added (extraKinds).
func (rt *Runtime) kinds() []Kind { return append(kinds(), rt.extraKinds...) }

func (rt *Runtime) kindOf(typ string) Kind { return kindIn(rt.kinds(), typ) }

// deleteRanks orders deletions by the kinds' dependencies: a kind's rank is one
// more than the highest rank of the kinds depending on it, 0 when none does,
// so dependents are deleted first (the reverse topological order).
func deleteRanks(ks []Kind) map[string]int {
	rank := map[string]int{}
	for range ks {
		for _, k := range ks {
			for _, dep := range k.DependsOn() {
				rank[dep] = max(rank[dep], rank[k.Type()]+1)
			}
		}
	}
	return rank
}

// readTouchedDeclared is ReadTouched for a kind whose Read reads exactly the
// desired resources it is given: it reads the touched ones of typ, and nothing
// when none is touched.
func readTouchedDeclared(ctx context.Context, k Kind, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	var ds []*Resource
	hit := false
	for addr, typ := range touched {
		if typ != k.Type() {
			continue
		}
		hit = true
		if d := desiredBy[addr]; d != nil {
			ds = append(ds, d)
		}
	}
	if !hit {
		return nil, nil
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Address < ds[j].Address })
	return k.Read(ctx, rt, ds)
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
	// extraKinds are registered after kinds() (tests only: kind_walkthrough_test.go).
	extraKinds []Kind
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

// diffPresence decides what needs no attribute compared, for a per-sandbox
// resource: an undeclared live one is an orphan of its sandbox and deleted, a
// declared one not live is created ("<what> missing"). done is false when both
// exist and the kind compares attributes.
func diffPresence(desired, live *Resource, what string) (act Action, why string, done bool) {
	switch {
	case desired == nil && live == nil:
		return NoOp, "", true
	case desired == nil:
		return Delete, "orphaned: sandbox " + live.Sandbox + " is not in km.yaml", true
	case live == nil:
		return Create, what + " missing", true
	}
	return NoOp, "", false
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
