package state_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

func testSchedule(group, name string) state.Schedule {
	return state.Schedule{
		Name:               name,
		Group:              group,
		Expression:         "rate(45 minutes)",
		State:              "ENABLED",
		Description:        "refresh the GitHub token of " + name,
		TargetARN:          "arn:aws:lambda:us-east-1:000000000000:function:km-github-token-refresher",
		RoleARN:            "arn:aws:iam::000000000000:role/km-github-token-scheduler",
		Input:              `{"sandbox_id":"` + name + `"}`,
		RetryMaxAttempts:   2,
		MaxEventAgeSeconds: 600,
	}
}

func TestScheduleRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	group := uniq(t)
	name := "km-github-token-sb-1"

	if _, err := a.GetScheduleGroup(ctx, group); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("GetScheduleGroup missing: %v, want ErrNotFound", err)
	}
	garn, err := a.CreateScheduleGroup(ctx, group, map[string]string{"km:managed": "true"})
	if err != nil || garn == "" {
		t.Fatalf("CreateScheduleGroup = %q, %v", garn, err)
	}
	if _, err := a.CreateScheduleGroup(ctx, group, nil); !errors.Is(err, state.ErrAlreadyExists) {
		t.Errorf("CreateScheduleGroup twice: %v, want ErrAlreadyExists", err)
	}
	if got, err := a.GetScheduleGroup(ctx, group); err != nil || got != garn {
		t.Errorf("GetScheduleGroup = %q, %v; want %q", got, err, garn)
	}

	want := testSchedule(group, name)
	rec.Reset()
	arn, err := a.CreateSchedule(ctx, want)
	if err != nil || arn == "" {
		t.Fatalf("CreateSchedule = %q, %v", arn, err)
	}
	in := rec.Operation("CreateSchedule")[0].Input.(*scheduler.CreateScheduleInput)
	if in.FlexibleTimeWindow == nil || in.FlexibleTimeWindow.Mode != schedtypes.FlexibleTimeWindowModeOff {
		t.Errorf("CreateSchedule FlexibleTimeWindow = %+v, want OFF", in.FlexibleTimeWindow)
	}
	if _, err := a.CreateSchedule(ctx, want); !errors.Is(err, state.ErrAlreadyExists) {
		t.Errorf("CreateSchedule twice: %v, want ErrAlreadyExists", err)
	}

	got, err := a.GetSchedule(ctx, group, name)
	if err != nil {
		t.Fatal(err)
	}
	want.ARN = arn
	want.FlexibleWindowOff = true
	want.CreationDate, want.LastModified = got.CreationDate, got.LastModified
	if got != want {
		t.Errorf("GetSchedule =\n%+v\nwant\n%+v", got, want)
	}

	// UpdateSchedule replaces the whole schedule: the description goes away.
	upd := testSchedule(group, name)
	upd.Description, upd.State, upd.Input = "", "DISABLED", `{"sandbox_id":"other"}`
	if err := a.UpdateSchedule(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got, _ = a.GetSchedule(ctx, group, name)
	if got.Description != "" || got.State != "DISABLED" || got.Input != upd.Input {
		t.Errorf("after UpdateSchedule: %+v", got)
	}

	if err := a.DeleteSchedule(ctx, group, name); err != nil {
		t.Fatal(err)
	}
	for op, err := range map[string]error{
		"GetSchedule":    func() error { _, err := a.GetSchedule(ctx, group, name); return err }(),
		"DeleteSchedule": a.DeleteSchedule(ctx, group, name),
		"UpdateSchedule": a.UpdateSchedule(ctx, upd),
	} {
		if !errors.Is(err, state.ErrNotFound) {
			t.Errorf("%s of a deleted schedule: %v, want ErrNotFound", op, err)
		}
	}
	if err := a.DeleteScheduleGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteScheduleGroup(ctx, group); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DeleteScheduleGroup twice: %v, want ErrNotFound", err)
	}
}

func TestListSchedulesFiltersByGroupClientSide(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	g1, g2 := uniq(t)+"-1", uniq(t)+"-2"
	for _, g := range []string{g1, g2} {
		if _, err := a.CreateScheduleGroup(ctx, g, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Same names in both groups: only the group filter tells them apart.
	for _, s := range []state.Schedule{testSchedule(g1, "km-b"), testSchedule(g1, "km-a"), testSchedule(g1, "other"), testSchedule(g2, "km-a")} {
		if _, err := a.CreateSchedule(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rec.Reset()
	got, err := a.ListSchedules(ctx, g1, "km-")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Group+"/"+s.Name+"/"+s.State)
		if s.TargetARN == "" {
			t.Errorf("%s has no target ARN", s.Name)
		}
	}
	if want := []string{g1 + "/km-a/ENABLED", g1 + "/km-b/ENABLED"}; !slices.Equal(names, want) {
		t.Errorf("ListSchedules = %v, want %v", names, want)
	}
	in := rec.Operation("ListSchedules")[0].Input.(*scheduler.ListSchedulesInput)
	if aws.ToString(in.GroupName) != g1 || aws.ToString(in.NamePrefix) != "km-" {
		t.Errorf("ListSchedules sent GroupName %v NamePrefix %v", in.GroupName, in.NamePrefix)
	}
}

func TestListSchedulesFollowsNextToken(t *testing.T) {
	sum := func(group, name string) schedtypes.ScheduleSummary {
		return schedtypes.ScheduleSummary{Name: aws.String(name), GroupName: aws.String(group), State: schedtypes.ScheduleStateEnabled,
			Target: &schedtypes.TargetSummary{Arn: aws.String("arn:fn")}}
	}
	fake, served := strictPages(t, "ListSchedules",
		func(in any) string { return aws.ToString(in.(*scheduler.ListSchedulesInput).NextToken) },
		[]page{
			{"", &scheduler.ListSchedulesOutput{Schedules: []schedtypes.ScheduleSummary{sum("g", "km-c")}, NextToken: aws.String("t1")}},
			{"t1", &scheduler.ListSchedulesOutput{Schedules: []schedtypes.ScheduleSummary{sum("other", "km-z")}, NextToken: aws.String("t2")}},
			{"t2", &scheduler.ListSchedulesOutput{Schedules: []schedtypes.ScheduleSummary{sum("g", "km-a")}}},
		})
	a, _ := statetest.Client(t, "http://127.0.0.1:1", state.Options{APIOptions: []func(*middleware.Stack) error{fake}})
	got, err := a.ListSchedules(context.Background(), "g", "km-")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "km-a" || got[1].Name != "km-c" || served() != 3 {
		t.Errorf("ListSchedules = %+v after %d pages", got, served())
	}
}

// A schedule's start date goes to AWS as StartDate; kumo cannot parse it
// ("Invalid request body"), so the schedule is written again without it.
func TestScheduleStartDate(t *testing.T) {
	ctx := context.Background()
	a, rec, _ := statetest.NewKumo(t)
	group := uniq(t)
	if _, err := a.CreateScheduleGroup(ctx, group, nil); err != nil {
		t.Fatal(err)
	}
	s := testSchedule(group, "km-github-token-sb-start")
	s.StartDate = time.Date(2030, 1, 1, 0, 17, 23, 0, time.UTC)
	rec.Reset()
	if _, err := a.CreateSchedule(ctx, s); err != nil {
		t.Fatalf("CreateSchedule with a start date: %v", err)
	}
	calls := rec.Operation("CreateSchedule")
	first := calls[0].Input.(*scheduler.CreateScheduleInput)
	if first.StartDate == nil || !first.StartDate.Equal(s.StartDate) {
		t.Fatalf("StartDate sent: %v, want %s", first.StartDate, s.StartDate)
	}
	if len(calls) != 2 || calls[1].Input.(*scheduler.CreateScheduleInput).StartDate != nil {
		t.Fatalf("kumo fallback: %d calls", len(calls))
	}
	rec.Reset()
	if err := a.UpdateSchedule(ctx, s); err != nil {
		t.Fatalf("UpdateSchedule with a start date: %v", err)
	}
	if in := rec.Operation("UpdateSchedule")[0].Input.(*scheduler.UpdateScheduleInput); in.StartDate == nil || !in.StartDate.Equal(s.StartDate) {
		t.Fatalf("UpdateSchedule StartDate sent: %v", in.StartDate)
	}
}
