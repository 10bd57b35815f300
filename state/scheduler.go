package state

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// ListSchedules returns the schedules of group whose name starts with
// namePrefix, sorted by name. It sends GroupName and NamePrefix and follows
// NextToken to the end. It filters by group and prefix itself too: kumo
// v0.33.1 reads the group from a query parameter the SDK does not send
// ("GroupName" instead of "ScheduleGroup"), ignores NamePrefix, never pages
// and returns at most 100 schedules of the whole account, so on kumo a
// listing can miss schedules once more than 100 exist; GetSchedule by name
// is exact everywhere.
func (a *AWS) ListSchedules(ctx context.Context, group, namePrefix string) ([]ScheduleSummary, error) {
	in := &scheduler.ListSchedulesInput{}
	if group != "" {
		in.GroupName = aws.String(group)
	}
	if namePrefix != "" {
		in.NamePrefix = aws.String(namePrefix)
	}
	var out []ScheduleSummary
	p := scheduler.NewListSchedulesPaginator(a.scheduler, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("scheduler", "ListSchedules", group+"/"+namePrefix, err)
		}
		for _, s := range res.Schedules {
			sum := ScheduleSummary{
				Name:         aws.ToString(s.Name),
				Group:        aws.ToString(s.GroupName),
				State:        string(s.State),
				LastModified: aws.ToTime(s.LastModificationDate),
			}
			if s.Target != nil {
				sum.TargetARN = aws.ToString(s.Target.Arn)
			}
			if (group != "" && sum.Group != group) || !strings.HasPrefix(sum.Name, namePrefix) {
				continue
			}
			out = append(out, sum)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// GetSchedule reads one schedule; ErrNotFound when it does not exist.
func (a *AWS) GetSchedule(ctx context.Context, group, name string) (Schedule, error) {
	res, err := a.scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{
		Name:      aws.String(name),
		GroupName: optString(group),
	})
	if err != nil {
		return Schedule{}, wrapErr("scheduler", "GetSchedule", group+"/"+name, err)
	}
	s := Schedule{
		Name:         aws.ToString(res.Name),
		Group:        aws.ToString(res.GroupName),
		ARN:          aws.ToString(res.Arn),
		Expression:   aws.ToString(res.ScheduleExpression),
		State:        string(res.State),
		Description:  aws.ToString(res.Description),
		LastModified: aws.ToTime(res.LastModificationDate),
		CreationDate: aws.ToTime(res.CreationDate),
		StartDate:    aws.ToTime(res.StartDate),
	}
	if res.FlexibleTimeWindow != nil {
		s.FlexibleWindowOff = res.FlexibleTimeWindow.Mode == schedtypes.FlexibleTimeWindowModeOff
	}
	if t := res.Target; t != nil {
		s.TargetARN = aws.ToString(t.Arn)
		s.RoleARN = aws.ToString(t.RoleArn)
		s.Input = aws.ToString(t.Input)
		if rp := t.RetryPolicy; rp != nil {
			s.RetryMaxAttempts = aws.ToInt32(rp.MaximumRetryAttempts)
			s.MaxEventAgeSeconds = aws.ToInt32(rp.MaximumEventAgeInSeconds)
		}
	}
	return s, nil
}

// CreateSchedule creates a schedule (flexible time window OFF) and returns its
// ARN; ErrAlreadyExists when it exists.
func (a *AWS) CreateSchedule(ctx context.Context, s Schedule) (string, error) {
	arn, err := a.createSchedule(ctx, s)
	if err != nil && !s.StartDate.IsZero() && startDateRefused(err) {
		s.StartDate = time.Time{}
		return a.createSchedule(ctx, s)
	}
	return arn, err
}

// startDateRefused: the endpoint cannot parse a request with StartDate (kumo
// v0.33.1 answers "Invalid request body"); the schedule is written without
// it, unspread.
func startDateRefused(err error) bool {
	return strings.Contains(err.Error(), "ValidationException: Invalid request body")
}

func (a *AWS) createSchedule(ctx context.Context, s Schedule) (string, error) {
	in := scheduler.CreateScheduleInput(scheduleInput(s))
	res, err := a.scheduler.CreateSchedule(ctx, &in)
	if err != nil {
		return "", wrapErr("scheduler", "CreateSchedule", s.Group+"/"+s.Name, err)
	}
	return aws.ToString(res.ScheduleArn), nil
}

// UpdateSchedule replaces a schedule as a whole, as AWS requires: fields not
// sent are reset to their defaults. ErrNotFound when it does not exist.
func (a *AWS) UpdateSchedule(ctx context.Context, s Schedule) error {
	err := a.updateSchedule(ctx, s)
	if err != nil && !s.StartDate.IsZero() && startDateRefused(err) {
		s.StartDate = time.Time{}
		return a.updateSchedule(ctx, s)
	}
	return err
}

func (a *AWS) updateSchedule(ctx context.Context, s Schedule) error {
	in := scheduleInput(s)
	_, err := a.scheduler.UpdateSchedule(ctx, &in)
	return wrapErr("scheduler", "UpdateSchedule", s.Group+"/"+s.Name, err)
}

// scheduleInput is the whole schedule as CreateSchedule and UpdateSchedule
// both take it (the two inputs have the same fields; UpdateSchedule resets
// whatever is not sent).
func scheduleInput(s Schedule) scheduler.UpdateScheduleInput {
	return scheduler.UpdateScheduleInput{
		Name:               aws.String(s.Name),
		GroupName:          optString(s.Group),
		ScheduleExpression: aws.String(s.Expression),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target:             scheduleTarget(s),
		State:              schedtypes.ScheduleState(s.State),
		Description:        optString(s.Description),
		StartDate:          optTime(s.StartDate),
	}
}

// DeleteSchedule deletes a schedule; ErrNotFound when it does not exist.
func (a *AWS) DeleteSchedule(ctx context.Context, group, name string) error {
	_, err := a.scheduler.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{
		Name:      aws.String(name),
		GroupName: optString(group),
	})
	return wrapErr("scheduler", "DeleteSchedule", group+"/"+name, err)
}

// GetScheduleGroup returns a group's ARN; ErrNotFound when it does not exist.
func (a *AWS) GetScheduleGroup(ctx context.Context, name string) (string, error) {
	res, err := a.scheduler.GetScheduleGroup(ctx, &scheduler.GetScheduleGroupInput{Name: aws.String(name)})
	if err != nil {
		return "", wrapErr("scheduler", "GetScheduleGroup", name, err)
	}
	return aws.ToString(res.Arn), nil
}

// CreateScheduleGroup creates a group and returns its ARN; ErrAlreadyExists
// when it exists. (kumo accepts and drops the tags.)
func (a *AWS) CreateScheduleGroup(ctx context.Context, name string, tags map[string]string) (string, error) {
	in := &scheduler.CreateScheduleGroupInput{Name: aws.String(name)}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, schedtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	res, err := a.scheduler.CreateScheduleGroup(ctx, in)
	if err != nil {
		return "", wrapErr("scheduler", "CreateScheduleGroup", name, err)
	}
	return aws.ToString(res.ScheduleGroupArn), nil
}

// DeleteScheduleGroup deletes a group (AWS deletes its schedules with it);
// ErrNotFound when it does not exist.
func (a *AWS) DeleteScheduleGroup(ctx context.Context, name string) error {
	_, err := a.scheduler.DeleteScheduleGroup(ctx, &scheduler.DeleteScheduleGroupInput{Name: aws.String(name)})
	return wrapErr("scheduler", "DeleteScheduleGroup", name, err)
}

func scheduleTarget(s Schedule) *schedtypes.Target {
	t := &schedtypes.Target{
		Arn:     aws.String(s.TargetARN),
		RoleArn: aws.String(s.RoleARN),
		Input:   optString(s.Input),
		RetryPolicy: &schedtypes.RetryPolicy{
			MaximumRetryAttempts: aws.Int32(s.RetryMaxAttempts),
		},
	}
	if s.MaxEventAgeSeconds > 0 {
		t.RetryPolicy.MaximumEventAgeInSeconds = aws.Int32(s.MaxEventAgeSeconds)
	}
	return t
}

// optString is nil for "", so that optional fields are left out.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
