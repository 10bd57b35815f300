package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/klankermaker/km/state"
)

// fakeSchedules implements ScheduleAPI over a map of schedules by name.
type fakeSchedules struct {
	AWS    // nil: a call outside ScheduleAPI panics
	byName map[string]state.Schedule
	calls  calls
}

func (f *fakeSchedules) ListSchedules(_ context.Context, group, _ string) ([]state.ScheduleSummary, error) {
	f.calls.add("ListSchedules", group)
	return nil, nil
}

func (f *fakeSchedules) GetSchedule(_ context.Context, group, name string) (state.Schedule, error) {
	f.calls.add("GetSchedule", group, name)
	s, ok := f.byName[name]
	if !ok {
		return state.Schedule{}, state.ErrNotFound
	}
	return s, nil
}

func (f *fakeSchedules) CreateSchedule(_ context.Context, s state.Schedule) (string, error) {
	f.calls.add("CreateSchedule", s.Group, s.Name)
	if _, ok := f.byName[s.Name]; ok {
		return "", state.ErrAlreadyExists
	}
	f.byName[s.Name] = s
	return "arn:schedule/" + s.Name, nil
}

func (f *fakeSchedules) UpdateSchedule(_ context.Context, s state.Schedule) error {
	f.calls.add("UpdateSchedule", s.Group, s.Name)
	f.byName[s.Name] = s
	return nil
}

func (f *fakeSchedules) DeleteSchedule(_ context.Context, group, name string) error {
	f.calls.add("DeleteSchedule", group, name)
	if _, ok := f.byName[name]; !ok {
		return state.ErrNotFound
	}
	delete(f.byName, name)
	return nil
}

func scheduleRes(input, offset string) *Resource {
	r := res(TypeSchedule, addrSchedule("sb"), "kmt-refresh-sb", "name", "kmt-refresh-sb", "group", "kmt-github-token-refresh",
		"schedule_expression", "rate(45 minutes)", "state", "ENABLED", "input", input,
		"retry_maximum_attempts", "3", "retry_maximum_event_age", "600", "start_offset", offset)
	r.Sandbox = "sb"
	return r
}

func TestScheduleDiff(t *testing.T) {
	want := scheduleRes(`{"a":1}`, "PT5M")
	checkDiff(t, scheduleKind{}, []diffCase{
		{"missing", want, nil, Create, "schedule missing"},
		{"same", want, scheduleRes(`{"a":1}`, "PT5M"), NoOp, ""},
		{"no start date yet: not rewritten for that alone", want, scheduleRes(`{"a":1}`, ""), NoOp, ""},
		{"payload changed", want, scheduleRes(`{"a":2}`, "PT5M"), Update, "changed the refresh payload"},
		{"orphan", nil, want, Delete, "sandbox sb is not in km.yaml"},
	})
}

func TestScheduleApply(t *testing.T) {
	ctx := context.Background()
	d := scheduleRes(`{"a":1}`, "PT5M")
	for _, tc := range []struct {
		name     string
		existing bool
		act      Action
		want     string
	}{
		{"create", false, Create, "CreateSchedule kmt-github-token-refresh kmt-refresh-sb"},
		{"create finds it exists", true, Create, "CreateSchedule kmt-github-token-refresh kmt-refresh-sb; UpdateSchedule kmt-github-token-refresh kmt-refresh-sb"},
		{"update", true, Update, "UpdateSchedule kmt-github-token-refresh kmt-refresh-sb"},
		{"delete", true, Delete, "DeleteSchedule kmt-github-token-refresh kmt-refresh-sb"},
		{"delete already gone", false, Delete, "DeleteSchedule kmt-github-token-refresh kmt-refresh-sb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSchedules{byName: map[string]state.Schedule{}}
			if tc.existing {
				f.byName[d.ID] = state.Schedule{Name: d.ID, Group: "kmt-github-token-refresh", Input: "{}"}
			}
			rt := fakeRuntime(f)
			rt.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
			desired := d
			if tc.act == Delete {
				desired = nil
			}
			if _, err := (scheduleKind{}).Apply(ctx, rt, changeFor(desired, d, tc.act)); err != nil || f.calls.String() != tc.want {
				t.Fatalf("Apply: %v, calls %q want %q", err, f.calls, tc.want)
			}
			s, ok := f.byName[d.ID]
			if tc.act == Delete {
				if ok {
					t.Fatalf("schedule still there after delete")
				}
				return
			}
			if !ok || s.Input != `{"a":1}` || s.Expression != "rate(45 minutes)" || s.RetryMaxAttempts != 3 || s.StartDate.IsZero() || !s.FlexibleWindowOff {
				t.Fatalf("written schedule: %+v", s)
			}
		})
	}
}
