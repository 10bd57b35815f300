package reconcile

import (
	"context"
	"testing"

	"github.com/klankermaker/km/state"
)

// fakeLogGroups implements LogGroupAPI over a map of retention days.
type fakeLogGroups struct {
	AWS   // nil: a call outside LogGroupAPI panics
	days  map[string]int32
	calls calls
}

func (f *fakeLogGroups) DescribeLogGroup(_ context.Context, name string) (state.LogGroup, error) {
	f.calls.add("DescribeLogGroup", name)
	d, ok := f.days[name]
	if !ok {
		return state.LogGroup{}, state.ErrNotFound
	}
	return state.LogGroup{Name: name, RetentionDays: d}, nil
}

func (f *fakeLogGroups) CreateLogGroup(_ context.Context, name string, _ map[string]string) error {
	f.calls.add("CreateLogGroup", name)
	f.days[name] = 0
	return nil
}

func (f *fakeLogGroups) PutRetentionPolicy(_ context.Context, name string, days int32) error {
	f.calls.add("PutRetentionPolicy", name, days)
	f.days[name] = days
	return nil
}

func TestLogGroupDiff(t *testing.T) {
	want := res(TypeLogGroup, addrLogGroup, "g", "name", "g", "retention_in_days", "30")
	checkDiff(t, logGroupKind{}, []diffCase{
		{"missing", want, nil, Create, "log group missing"},
		{"same", want, res(TypeLogGroup, addrLogGroup, "g", "name", "g", "retention_in_days", "30"), NoOp, ""},
		{"retention changed", want, res(TypeLogGroup, addrLogGroup, "g", "name", "g", "retention_in_days", "7"), Update, "retention_in_days differs"},
		{"undeclared: never deleted", nil, want, NoOp, ""},
	})
}

func TestLogGroupApply(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		act   Action
		days  string
		want  string
		fails bool
	}{
		{"create", Create, "30", "CreateLogGroup g; PutRetentionPolicy g 30", false},
		{"update", Update, "7", "PutRetentionPolicy g 7", false},
		{"bad retention", Update, "many", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLogGroups{days: map[string]int32{}}
			d := res(TypeLogGroup, addrLogGroup, "g", "name", "g", "retention_in_days", tc.days)
			_, err := logGroupKind{}.Apply(ctx, fakeRuntime(f), changeFor(d, nil, tc.act))
			if (err != nil) != tc.fails || f.calls.String() != tc.want {
				t.Fatalf("Apply: err %v, calls %q, want %q (fails %v)", err, f.calls, tc.want, tc.fails)
			}
			live, err := logGroupKind{}.Read(ctx, fakeRuntime(f), []*Resource{d})
			if !tc.fails && (err != nil || len(live) != 1 || live[0].Attrs["retention_in_days"] != tc.days) {
				t.Fatalf("Read after Apply: %v %+v", err, live)
			}
		})
	}
}
