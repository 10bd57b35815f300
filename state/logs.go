package state

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// DescribeLogGroup reads one log group by exact name (DescribeLogGroups with
// the name as prefix, all pages); ErrNotFound when it does not exist.
func (a *AWS) DescribeLogGroup(ctx context.Context, name string) (LogGroup, error) {
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(a.logs, &cloudwatchlogs.DescribeLogGroupsInput{
		LogGroupNamePrefix: aws.String(name),
	})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return LogGroup{}, wrapErr("logs", "DescribeLogGroups", name, err)
		}
		for _, g := range res.LogGroups {
			if aws.ToString(g.LogGroupName) != name {
				continue
			}
			arn := aws.ToString(g.LogGroupArn)
			if arn == "" {
				arn = aws.ToString(g.Arn)
			}
			return LogGroup{Name: name, ARN: arn, RetentionDays: aws.ToInt32(g.RetentionInDays)}, nil
		}
	}
	return LogGroup{}, &opError{msg: fmt.Sprintf("logs DescribeLogGroups %s: no log group with this name", name), kind: ErrNotFound, err: ErrNotFound}
}

// CreateLogGroup creates a log group; ErrAlreadyExists when it exists.
func (a *AWS) CreateLogGroup(ctx context.Context, name string, tags map[string]string) error {
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}
	if len(tags) > 0 {
		in.Tags = tags
	}
	_, err := a.logs.CreateLogGroup(ctx, in)
	return wrapErr("logs", "CreateLogGroup", name, err)
}

// PutRetentionPolicy sets the group's retention in days.
func (a *AWS) PutRetentionPolicy(ctx context.Context, name string, days int32) error {
	_, err := a.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
		LogGroupName:    aws.String(name),
		RetentionInDays: aws.Int32(days),
	})
	return wrapErr("logs", "PutRetentionPolicy", name, err)
}

// DeleteLogGroup deletes a log group; ErrNotFound when it does not exist.
func (a *AWS) DeleteLogGroup(ctx context.Context, name string) error {
	_, err := a.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(name)})
	return wrapErr("logs", "DeleteLogGroup", name, err)
}

// FilterLogEvents returns the group's events matching pattern between start
// and end (zero: unbounded), all pages, oldest first.
func (a *AWS) FilterLogEvents(ctx context.Context, group, pattern string, start, end time.Time) ([]LogEvent, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: optString(pattern),
	}
	if !start.IsZero() {
		in.StartTime = aws.Int64(start.UnixMilli())
	}
	if !end.IsZero() {
		in.EndTime = aws.Int64(end.UnixMilli())
	}
	var out []LogEvent
	p := cloudwatchlogs.NewFilterLogEventsPaginator(a.logs, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("logs", "FilterLogEvents", group, err)
		}
		for _, e := range res.Events {
			out = append(out, LogEvent{
				Time:    time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(),
				Stream:  aws.ToString(e.LogStreamName),
				Message: aws.ToString(e.Message),
				EventID: aws.ToString(e.EventId),
			})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// PutLogEvents writes events to group/stream, creating the stream if it is
// missing. Events with a zero Time are stamped now. For tests and the
// simulator.
func (a *AWS) PutLogEvents(ctx context.Context, group, stream string, msgs []LogEvent) error {
	_, err := a.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{
		LogGroupName:  aws.String(group),
		LogStreamName: aws.String(stream),
	})
	if err = wrapErr("logs", "CreateLogStream", group+"/"+stream, err); err != nil && !IsAlreadyExists(err) {
		return err
	}
	now := time.Now()
	events := make([]logstypes.InputLogEvent, 0, len(msgs))
	for _, m := range msgs {
		t := m.Time
		if t.IsZero() {
			t = now
		}
		events = append(events, logstypes.InputLogEvent{Message: aws.String(m.Message), Timestamp: aws.Int64(t.UnixMilli())})
	}
	// AWS requires the events of one batch in chronological order.
	sort.SliceStable(events, func(i, j int) bool { return *events[i].Timestamp < *events[j].Timestamp })
	_, err = a.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  aws.String(group),
		LogStreamName: aws.String(stream),
		LogEvents:     events,
	})
	return wrapErr("logs", "PutLogEvents", group+"/"+stream, err)
}
