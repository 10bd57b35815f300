package reconcile

import (
	"context"
	"testing"

	"github.com/klankermaker/km/state"
)

// fakeScheduleGroups implements ScheduleGroupAPI over a set of groups.
type fakeScheduleGroups struct {
	AWS    // nil: a call outside ScheduleGroupAPI panics
	groups map[string]bool
	calls  calls
}

func (f *fakeScheduleGroups) GetScheduleGroup(_ context.Context, name string) (string, error) {
	f.calls.add("GetScheduleGroup", name)
	if !f.groups[name] {
		return "", state.ErrNotFound
	}
	return "arn:group/" + name, nil
}

func (f *fakeScheduleGroups) CreateScheduleGroup(_ context.Context, name string, _ map[string]string) (string, error) {
	f.calls.add("CreateScheduleGroup", name)
	if f.groups[name] {
		return "", state.ErrAlreadyExists
	}
	f.groups[name] = true
	return "arn:group/" + name, nil
}

func TestScheduleGroupDiff(t *testing.T) {
	want := res(TypeScheduleGroup, addrScheduleGroup, "g", "name", "g")
	checkDiff(t, scheduleGroupKind{}, []diffCase{
		{"missing", want, nil, Create, "schedule group missing"},
		{"present", want, res(TypeScheduleGroup, addrScheduleGroup, "g", "name", "g", "arn", "x"), NoOp, ""},
		{"undeclared: never deleted", nil, want, NoOp, ""},
	})
}

func TestScheduleGroupApply(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		existed bool
		want    map[string]string
	}{
		{"create", false, map[string]string{"arn": "arn:group/g"}},
		{"created concurrently", true, map[string]string{"arn": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeScheduleGroups{groups: map[string]bool{"g": tc.existed}}
			out, err := scheduleGroupKind{}.Apply(ctx, fakeRuntime(f), changeFor(res(TypeScheduleGroup, addrScheduleGroup, "g", "name", "g"), nil, Create))
			if err != nil || out["arn"] != tc.want["arn"] || f.calls.String() != "CreateScheduleGroup g" || !f.groups["g"] {
				t.Fatalf("Apply: %v %v, calls %q", out, err, f.calls)
			}
		})
	}
}
