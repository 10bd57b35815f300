package reconcile

import (
	"context"
	"fmt"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klankermaker/km/state"
)

const TypeSchedule = "aws_scheduler_schedule"

// scheduleKind: one refresh schedule per sandbox, in km's schedule group.
type scheduleKind struct{}

func (scheduleKind) Type() string { return TypeSchedule }

// ScheduleAPI is the EventBridge Scheduler slice the schedules use.
type ScheduleAPI interface {
	ListSchedules(ctx context.Context, group, namePrefix string) ([]state.ScheduleSummary, error)
	GetSchedule(ctx context.Context, group, name string) (state.Schedule, error)
	CreateSchedule(ctx context.Context, s state.Schedule) (string, error)
	UpdateSchedule(ctx context.Context, s state.Schedule) error
	DeleteSchedule(ctx context.Context, group, name string) error
}

func (scheduleKind) Read(ctx context.Context, rt *Runtime, desired []*Resource) ([]*Resource, error) {
	group := rt.Names.ScheduleGroup()
	var mu sync.Mutex
	var out []*Resource
	seen := map[string]bool{}
	// One GetSchedule per declared sandbox: a listing is not trusted to be complete.
	err := forEach(ctx, len(desired), rt.readParallelism(), func(ctx context.Context, i int) error {
		d := desired[i]
		s, err := rt.AWS.GetSchedule(ctx, group, d.ID)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading schedule %s/%s: %w", group, d.ID, err)
		}
		mu.Lock()
		out = append(out, liveSchedule(d.Address, d.Sandbox, s))
		seen[s.Name] = true
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Orphans: schedules in km's group that no declared sandbox owns.
	list, err := rt.AWS.ListSchedules(ctx, group, rt.Names.SchedulePrefix())
	if err != nil {
		return nil, fmt.Errorf("listing schedules in group %s: %w", group, err)
	}
	for _, s := range list {
		if seen[s.Name] || s.Group != group {
			continue
		}
		id := strings.TrimPrefix(s.Name, rt.Names.SchedulePrefix())
		out = append(out, &Resource{
			Address: addrSchedule(id), Type: TypeSchedule, Sandbox: id, ID: s.Name,
			Attrs:       map[string]string{"name": s.Name, "group": s.Group, "state": s.State, "target_arn": s.TargetARN},
			Fingerprint: "modified=" + s.LastModified.UTC().Format(time.RFC3339Nano),
		})
	}
	return out, nil
}

func liveSchedule(addr, sandbox string, s state.Schedule) *Resource {
	r := &Resource{
		Address: addr, Type: TypeSchedule, Sandbox: sandbox, ID: s.Name,
		Attrs: map[string]string{
			"name": s.Name, "group": s.Group, "schedule_expression": s.Expression, "state": s.State,
			"target_arn": s.TargetARN, "role_arn": s.RoleARN, "input": NormalizeJSONOr(s.Input),
			"retry_maximum_attempts":  strconv.Itoa(int(s.RetryMaxAttempts)),
			"retry_maximum_event_age": strconv.Itoa(int(s.MaxEventAgeSeconds)),
			"start_offset":            liveOffset(s.StartDate, s.Expression),
		},
	}
	r.Fingerprint = "modified=" + s.LastModified.UTC().Format(time.RFC3339Nano) + " content=" + shortHash(fmt.Sprint(r.Attrs))
	return r
}

func (scheduleKind) Diff(rt *Runtime, desired, live *Resource) (Action, string) {
	if act, why, done := diffPresence(desired, live, "schedule"); done {
		return act, why
	}
	if live.Attrs["start_offset"] == "" && desired.Attrs["start_offset"] != "" {
		// A schedule without a start date (written before schedules were
		// spread, or by an endpoint that cannot store one) is not rewritten
		// for that alone; the next write of it sets the start date.
		d := *desired
		d.Attrs = maps.Clone(desired.Attrs)
		delete(d.Attrs, "start_offset")
		desired = &d
	}
	a, why := diffAttrs(desired, live)
	if a == Update && !EqualAttr(desired.Attrs["input"], live.Attrs["input"]) {
		why = "the sandbox's profile or installation changed the refresh payload; " + why
	}
	if a == Replace {
		a = Update
	}
	return a, why
}

func (scheduleKind) Apply(ctx context.Context, rt *Runtime, c *Change) (map[string]string, error) {
	group := rt.Names.ScheduleGroup()
	if c.Action == Delete {
		if err := rt.AWS.DeleteSchedule(ctx, group, c.ID); err != nil && !isNotFound(err) {
			return nil, err
		}
		return nil, nil
	}
	d := c.desired
	attempts, _ := strconv.Atoi(d.Attrs["retry_maximum_attempts"])
	age, _ := strconv.Atoi(d.Attrs["retry_maximum_event_age"])
	s := state.Schedule{
		Name: d.ID, Group: group, Expression: d.Attrs["schedule_expression"], State: d.Attrs["state"],
		Description: "km GitHub token refresh for sandbox " + d.Sandbox,
		TargetARN:   d.Attrs["target_arn"], RoleARN: d.Attrs["role_arn"], Input: d.Attrs["input"],
		RetryMaxAttempts: int32(attempts), MaxEventAgeSeconds: int32(age), FlexibleWindowOff: true,
		StartDate: nextStart(rt.now(), d.Sandbox, d.Attrs["schedule_expression"]),
	}
	if c.Action == Create {
		_, err := rt.AWS.CreateSchedule(ctx, s)
		if err == nil || !isExists(err) {
			return nil, err
		}
	}
	return nil, rt.AWS.UpdateSchedule(ctx, s)
}

func addrSchedule(id string) string { return SandboxAddr(id) + ".aws_scheduler_schedule.refresh" }

// DependsOn: a schedule invokes the function as the scheduler role, in the
// group, and names its sandbox's tokens in its payload.
func (scheduleKind) DependsOn() []string {
	return []string{TypeFunction, TypeRole, TypeScheduleGroup, TypeToken}
}

// Desired declares one refresh schedule per sandbox, its payload naming the
// sandbox's token parameters.
func (scheduleKind) Desired(d *decl) ([]*Resource, error) {
	n := d.rt.Names
	var out []*Resource
	for _, sb := range d.sandboxes {
		p := sb.profile
		pl := sandboxtoken.Payload{SandboxID: sb.ID, Prefix: n.Prefix, KeyAlias: n.KeyAlias(sb.ID), Permissions: p.GitHubPermissions()}
		var tokenAddrs []string
		for i, o := range sb.owners {
			tokenAddrs = append(tokenAddrs, addrToken(sb.ID, o.owner))
			pl.Owners = append(pl.Owners, sandboxtoken.Owner{Owner: o.owner, InstallationID: o.inst.ID, Repositories: o.repos, Permissions: p.GitHubPermissions(), Parameter: o.param})
			if i == 0 {
				pl.InstallationID = o.inst.ID
				for _, rp := range p.AllowedRepos {
					if rp.Owner == "*" || strings.EqualFold(rp.Owner, o.owner) {
						pl.AllowedRepos = append(pl.AllowedRepos, rp.Owner+"/"+rp.Repo)
					}
				}
				if pl.AllowedRepos != nil && len(pl.AllowedRepos) == 1 && pl.AllowedRepos[0] == "*/*" {
					pl.AllowedRepos = []string{"*"}
				}
			}
		}
		out = append(out, &Resource{
			Address: addrSchedule(sb.ID), Type: TypeSchedule, Sandbox: sb.ID, ID: n.Schedule(sb.ID),
			Attrs: map[string]string{
				"name": n.Schedule(sb.ID), "group": n.ScheduleGroup(),
				"schedule_expression": d.cfg.Refresher.Schedule, "state": "ENABLED",
				"target_arn": ref(addrFunction, "arn"), "role_arn": ref(addrSchedulerRole, "arn"),
				"input":                  pl.Encode(),
				"retry_maximum_attempts": "3", "retry_maximum_event_age": "600",
				"start_offset": spreadAttr(sb.ID, d.cfg.Refresher.Schedule), // schedule_spread.go
			},
			DependsOn: append([]string{addrFunction, addrSchedulerRole, addrScheduleGroup}, tokenAddrs...),
		})
	}
	return out, nil
}

// ReadTouched reads the touched schedules (readTouchedDeclared).
func (k scheduleKind) ReadTouched(ctx context.Context, rt *Runtime, touched map[string]string, desiredBy map[string]*Resource) ([]*Resource, error) {
	return readTouchedDeclared(ctx, k, rt, touched, desiredBy)
}
