package state_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/klankermaker/km/state"
	"github.com/klankermaker/km/state/statetest"
)

func TestLogGroupRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	name := "/aws/lambda/" + uniq(t)

	if _, err := a.DescribeLogGroup(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DescribeLogGroup missing: %v, want ErrNotFound", err)
	}
	// A group whose name extends ours must not be mistaken for it.
	if err := a.CreateLogGroup(ctx, name+"-longer", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DescribeLogGroup(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DescribeLogGroup with only a longer name present: %v, want ErrNotFound", err)
	}
	if err := a.CreateLogGroup(ctx, name, map[string]string{"km:managed": "true"}); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateLogGroup(ctx, name, nil); !errors.Is(err, state.ErrAlreadyExists) {
		t.Errorf("CreateLogGroup twice: %v, want ErrAlreadyExists", err)
	}
	g, err := a.DescribeLogGroup(ctx, name)
	if err != nil || g.Name != name || g.RetentionDays != 0 || g.ARN == "" {
		t.Errorf("DescribeLogGroup = %+v, %v", g, err)
	}
	if err := a.PutRetentionPolicy(ctx, name, 30); err != nil {
		t.Fatal(err)
	}
	if g, _ := a.DescribeLogGroup(ctx, name); g.RetentionDays != 30 {
		t.Errorf("RetentionDays = %d, want 30", g.RetentionDays)
	}
	if err := a.DeleteLogGroup(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteLogGroup(ctx, name); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("DeleteLogGroup twice: %v, want ErrNotFound", err)
	}
}

func TestFilterLogEvents(t *testing.T) {
	ctx := context.Background()
	a, _, _ := statetest.NewKumo(t)
	group := "/aws/lambda/" + uniq(t)
	if err := a.CreateLogGroup(ctx, group, nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	// Out of order and across two streams (the second put reuses stream a).
	for _, put := range []struct {
		stream string
		events []state.LogEvent
	}{
		{"a", []state.LogEvent{{Time: at(3), Message: "refreshed sb-1 third"}, {Time: at(1), Message: "refreshed sb-1 first"}}},
		{"b", []state.LogEvent{{Time: at(2), Message: "refreshed sb-1 second"}, {Time: at(2), Message: "refreshed sb-2"}}},
		{"a", []state.LogEvent{{Time: at(4), Message: "refreshed sb-1 fourth"}}},
	} {
		if err := a.PutLogEvents(ctx, group, put.stream, put.events); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		start, end time.Time
		want       []string
	}{
		{"all", time.Time{}, time.Time{}, []string{"first", "second", "third", "fourth"}},
		{"window", at(2), at(3), []string{"second", "third"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := a.FilterLogEvents(ctx, group, "sb-1", tt.start, tt.end)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, e.Message[len("refreshed sb-1 "):])
				if e.Stream == "" || e.EventID == "" || e.Time.IsZero() {
					t.Errorf("event %+v lacks stream, id or time", e)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("FilterLogEvents = %v, want %v", got, tt.want)
			}
		})
	}
	if err := a.PutLogEvents(ctx, "/missing/"+uniq(t), "s", []state.LogEvent{{Message: "x"}}); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("PutLogEvents to a missing group: %v, want ErrNotFound", err)
	}
}
