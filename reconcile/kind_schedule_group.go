package reconcile

import (
	"context"
	"fmt"
)

const TypeScheduleGroup = "aws_scheduler_schedule_group"

// scheduleGroupKind: the Scheduler group holding every refresh schedule.
type scheduleGroupKind struct{}

func (scheduleGroupKind) Type() string { return TypeScheduleGroup }

// ScheduleGroupAPI is the EventBridge Scheduler slice the group uses.
type ScheduleGroupAPI interface {
	GetScheduleGroup(ctx context.Context, name string) (string, error)
	CreateScheduleGroup(ctx context.Context, name string, tags map[string]string) (string, error)
}

func (scheduleGroupKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	var out []*Resource
	for _, d := range desired {
		arn, err := rt.AWS.GetScheduleGroup(ctx, d.ID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading schedule group %s: %w", d.ID, err)
		}
		out = append(out, &Resource{
			Address: d.Address, Type: TypeScheduleGroup, ID: d.ID,
			Attrs: map[string]string{"name": d.ID, "arn": arn}, Fingerprint: "exists",
		})
	}
	return out, nil
}

func (scheduleGroupKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	switch {
	case desired == nil:
		return NoOp, ""
	case live == nil:
		return Create, "schedule group missing"
	}
	return NoOp, ""
}

func (scheduleGroupKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	arn, err := rt.AWS.CreateScheduleGroup(ctx, c.ID, rt.tags(""))
	if err != nil && !isExists(err) {
		return nil, err
	}
	return map[string]string{"arn": arn}, nil
}

const addrScheduleGroup = "aws_scheduler_schedule_group.refresh"

// DependsOn: the group depends on nothing km manages.
func (scheduleGroupKind) DependsOn() []string { return nil }

// Desired declares km's schedule group.
func (scheduleGroupKind) Desired(d *decl) ([]*Resource, error) {
	n := d.rt.Names
	return []*Resource{{
		Address: addrScheduleGroup, Type: TypeScheduleGroup, ID: n.ScheduleGroup(),
		Attrs: map[string]string{"name": n.ScheduleGroup()},
	}}, nil
}

// ReadTouched reads the touched schedule group (readTouchedDeclared).
func (k scheduleGroupKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}
