package reconcile

import (
	"context"
	"fmt"
	"github.com/klankermaker/km/state"
	"strconv"
)

const TypeLogGroup = "aws_cloudwatch_log_group"

// logGroupKind: the refresher's log group and its retention.
type logGroupKind struct{}

func (logGroupKind) Type() string { return TypeLogGroup }

// LogGroupAPI is the CloudWatch Logs slice the log group uses.
type LogGroupAPI interface {
	DescribeLogGroup(ctx context.Context, name string) (state.LogGroup, error)
	CreateLogGroup(ctx context.Context, name string, tags map[string]string) error
	PutRetentionPolicy(ctx context.Context, name string, days int32) error
}

func (logGroupKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	var out []*Resource
	for _, d := range desired {
		g, err := rt.AWS.DescribeLogGroup(ctx, d.ID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading log group %s: %w", d.ID, err)
		}
		days := strconv.Itoa(int(g.RetentionDays))
		out = append(out, &Resource{
			Address: d.Address, Type: TypeLogGroup, ID: g.Name,
			Attrs:       map[string]string{"name": g.Name, "retention_in_days": days},
			Fingerprint: "retention=" + days,
		})
	}
	return out, nil
}

func (logGroupKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	switch {
	case desired == nil:
		return NoOp, ""
	case live == nil:
		return Create, "log group missing"
	}
	return diffAttrs(desired, live)
}

func (logGroupKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	d := c.desired
	if c.Action == Create {
		if err := rt.AWS.CreateLogGroup(ctx, d.ID, rt.tags("")); err != nil && !isExists(err) {
			return nil, err
		}
	}
	days, err := strconv.Atoi(d.Attrs["retention_in_days"])
	if err != nil {
		return nil, fmt.Errorf("retention_in_days %q: %w", d.Attrs["retention_in_days"], err)
	}
	return nil, rt.AWS.PutRetentionPolicy(ctx, d.ID, int32(days))
}

const addrLogGroup = "aws_cloudwatch_log_group.refresher"

// DependsOn: the log group depends on nothing km manages.
func (logGroupKind) DependsOn() []string { return nil }

// Desired declares the refresher's log group.
func (logGroupKind) Desired(d *decl) ([]*Resource, error) {
	n := d.rt.Names
	return []*Resource{{
		Address: addrLogGroup, Type: TypeLogGroup, ID: n.LogGroup(),
		Attrs: map[string]string{
			"name": n.LogGroup(), "retention_in_days": strconv.Itoa(int(d.cfg.Refresher.LogRetentionDays)),
		},
	}}, nil
}

// ReadTouched reads the touched log group (readTouchedDeclared).
func (k logGroupKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}
