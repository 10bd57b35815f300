package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/lambdazip"
	"github.com/klankermaker/km/internal/otel"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/state"
)

// The refresher's side: the function, the schedules, each sandbox's tokens,
// recent failures and tokens km could not revoke.

// checkFunction: the refresher exists and runs this km's package.
func (d *doctor) checkFunction(ctx context.Context) {
	const name = "refresher.function"
	fnName := d.n.Function()
	fn, err := d.aws.GetFunction(ctx, fnName)
	if err != nil {
		d.add(name, Fail, notFoundOr(err, "Lambda "+fnName+" does not exist", "reading Lambda "+fnName), fixApply)
		return
	}
	d.fn, d.fnOK = fn, true
	zip, path, err := lambdazip.Find(d.e.Lookup)
	if err != nil {
		d.add(name, Warn, fmt.Sprintf("Lambda %s is deployed (CodeSha256 %s); cannot compare with this km's package: %s", fnName, fn.CodeSHA256, oneLine(err.Error())),
			"install km with its km-refresher.zip beside the binary, or set KM_REFRESHER_ZIP")
		return
	}
	if want := reconcile.ZipSHA256(zip); fn.CodeSHA256 != want {
		d.add(name, Fail, fmt.Sprintf("Lambda %s runs other code (CodeSha256 %s) than this km's package %s (%s)", fnName, fn.CodeSHA256, path, want),
			"run `km apply` to deploy this km's refresher")
		return
	}
	d.add(name, Pass, fmt.Sprintf("Lambda %s runs this km's package (CodeSha256 %s)", fnName, fn.CodeSHA256), "")
}

func (d *doctor) checkScheduleGroup(ctx context.Context) {
	const name = "refresher.schedule-group"
	g := d.n.ScheduleGroup()
	if _, err := d.aws.GetScheduleGroup(ctx, g); err != nil {
		d.add(name, Fail, notFoundOr(err, "schedule group "+g+" does not exist", "reading schedule group "+g), fixApply)
		return
	}
	d.add(name, Pass, "schedule group "+g+" exists", "")
}

// checkSandbox: every token parameter present and unexpired, the schedule
// enabled and targeting the refresher.
func (d *doctor) checkSandbox(ctx context.Context, sb profiles.Sandbox) {
	prefix := "sandbox[" + sb.ID + "]"
	p := d.cfg.Profile(sb.Profile)
	if p == nil {
		d.add(prefix, Fail, "profile "+sb.Profile+" not found", "add it to the profiles folder or fix the sandbox's profile in "+d.cfg.Path)
		return
	}
	params, err := d.aws.DescribeParameters(ctx, sandboxtoken.SandboxFolder(sb.ID))
	if err != nil {
		d.add(prefix+".token", Fail, "reading /sandbox/"+sb.ID+" from SSM: "+oneLine(err.Error()), "grant ssm:DescribeParameters to these credentials")
	} else {
		byName := map[string]state.Parameter{}
		for _, p := range params {
			byName[p.Name] = p
		}
		for i, owner := range d.cfg.OwnersOf(p) {
			d.checkToken(prefix+".token["+owner+"]", sb.ID, byName[sandboxtoken.Param(sb.ID, owner, i == 0)], sandboxtoken.Param(sb.ID, owner, i == 0), owner)
		}
	}

	name := prefix + ".schedule"
	sn := d.n.Schedule(sb.ID)
	s, err := d.aws.GetSchedule(ctx, d.n.ScheduleGroup(), sn)
	switch {
	case err != nil:
		d.add(name, Fail, notFoundOr(err, "schedule "+sn+" does not exist: the token is not refreshed", "reading schedule "+sn), fixApply)
	case s.State != "ENABLED":
		d.add(name, Fail, fmt.Sprintf("schedule %s is %s: the token is not refreshed", sn, s.State), "run `km apply` (it enables the schedule)")
	case d.fnOK && s.TargetARN != d.fn.ARN:
		d.add(name, Fail, fmt.Sprintf("schedule %s targets %s, not the refresher %s", sn, s.TargetARN, d.fn.ARN), fixApply)
	default:
		d.add(name, Pass, fmt.Sprintf("schedule %s %s, enabled, targets %s", sn, s.Expression, d.n.Function()), "")
	}
}

func (d *doctor) checkToken(name, sandbox string, p state.Parameter, param, owner string) {
	if p.Name == "" {
		d.add(name, Fail, "SSM "+param+" is missing: the sandbox has no token for "+owner, fixApply+" to mint it")
		return
	}
	meta, err := sandboxtoken.DecodeMeta(p.Description)
	if err != nil {
		d.add(name, Fail, "SSM "+param+" has no km token metadata ("+err.Error()+")", fixApply+" to mint a fresh token")
		return
	}
	if meta.Expired(d.now, 0) {
		d.add(name, Fail, fmt.Sprintf("SSM %s expired at %s (minted by %s at %s): the refresher is not refreshing it",
			param, meta.ExpiresAt.UTC().Format(time.RFC3339), meta.MintedBy, meta.MintedAt.UTC().Format(time.RFC3339)),
			"see `km otel "+sandbox+" --events` for the refresher's errors; `km apply` mints a fresh token now")
		return
	}
	d.add(name, Pass, fmt.Sprintf("SSM %s valid for %s (installation %d, minted by %s)",
		param, meta.ExpiresAt.Sub(d.now).Round(time.Minute), meta.InstallationID, meta.MintedBy), "")
}

// checkFailures: token_refresh_failed events in the refresher's log in the last hour.
func (d *doctor) checkFailures(ctx context.Context) {
	const name = "refresher.failures"
	group := d.n.LogGroup()
	evs, err := d.aws.FilterLogEvents(ctx, group, otel.FailurePattern, d.now.Add(-time.Hour), d.now)
	if err != nil {
		d.add(name, Fail, notFoundOr(err, "log group "+group+" does not exist", "reading "+group), fixApply)
		return
	}
	type agg struct {
		n    int
		last string
	}
	by := map[string]*agg{}
	for _, ev := range evs {
		e := otel.ParseEvent(ev)
		if e.Msg != otel.MsgFailed {
			continue
		}
		a := by[e.SandboxID]
		if a == nil {
			a = &agg{}
			by[e.SandboxID] = a
		}
		a.n++
		a.last = e.Error
	}
	if len(by) == 0 {
		d.add(name, Pass, "no token refresh failures in "+group+" in the last hour", "")
		return
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		a := by[id]
		parts = append(parts, fmt.Sprintf("%s: %d (last: %s)", id, a.n, a.last))
	}
	d.add(name, Fail, "token refresh failures in the last hour: "+strings.Join(parts, "; "),
		"run `km otel "+ids[0]+" --events` for each sandbox's events; see docs/setup.md (Troubleshooting)")
}

// checkUnrevoked: tokens km retired (a sandbox destroyed, an owner dropped,
// a scope narrowed) but could not revoke stay valid until they expire; each
// is a warning until then, with its short hash and expiry.
func (d *doctor) checkUnrevoked(ctx context.Context) {
	const name = "tokens.unrevoked"
	list, err := sandboxtoken.ListUnrevoked(ctx, d.aws, d.n, d.now, false)
	if err != nil {
		d.add(name, Warn, "reading the records of unrevoked tokens: "+oneLine(err.Error()), "grant ssm:DescribeParameters and ssm:GetParameters on "+d.n.UnrevokedPath()+"/* to these credentials")
		return
	}
	if len(list) == 0 {
		d.add(name, Pass, "every token km retired was revoked at GitHub (or has expired)", "")
		return
	}
	for _, u := range list {
		d.add(name, Warn, u.String(),
			"it expires on its own; to cut it off sooner, suspend the App's installation for that account (GitHub refuses its tokens while suspended); keep the refresher deployed and reachable (km apply) so that km revokes the next token it retires")
	}
}
