package reconcile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/klankermaker/km/internal/names"
)

// What every kind's own test (kind_*_test.go) shares: a Runtime over a fake
// of the kind's interface, a change as plan would make it, and the record of
// the calls the fake received. A fake embeds a nil AWS, so a call outside the
// kind's interface panics.

// calls records the AWS calls a fake received, "Operation arg".
type calls []string

func (c *calls) add(op string, args ...any) {
	parts := []string{op}
	for _, a := range args {
		parts = append(parts, fmt.Sprint(a))
	}
	*c = append(*c, strings.Join(parts, " "))
}

func (c calls) String() string { return strings.Join(c, "; ") }

// fakeRuntime is a Runtime over aws with prefix kmt.
func fakeRuntime(aws AWS) *Runtime { return &Runtime{AWS: aws, Names: names.New("kmt")} }

// changeFor is the change plan makes for desired/live under action act.
func changeFor(desired, live *Resource, act Action) *Change {
	src := desired
	if src == nil {
		src = live
	}
	c := newChange(src, desired, live, act, "")
	return &c
}

// diffCase is one row of a kind's Diff table.
type diffCase struct {
	name          string
	desired, live *Resource
	act           Action
	why           string // a substring of the reason
}

func checkDiff(t *testing.T, k Kind, cases []diffCase) {
	t.Helper()
	for _, tc := range cases {
		act, why := k.Diff(fakeRuntime(nil), tc.desired, tc.live)
		if act != tc.act || !strings.Contains(why, tc.why) {
			t.Errorf("%s: Diff = %s %q, want %s containing %q", tc.name, act, why, tc.act, tc.why)
		}
	}
}

// res is a resource of type typ with attrs given as name, value pairs.
func res(typ, addr, id string, kv ...string) *Resource {
	r := &Resource{Address: addr, Type: typ, ID: id, Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Attrs[kv[i]] = kv[i+1]
	}
	return r
}
