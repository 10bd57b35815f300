package sandboxes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/lambda"
	"github.com/klankermaker/km/state"
)

// ErrRefreshHandedOn: GitHub was unavailable and the refresher handed the
// refresh on to its relay; the token was not refreshed yet.
var ErrRefreshHandedOn = errors.New("not refreshed yet")

// Refresh is km refresh: it does what the sandbox's schedule does on a fire, now: it invokes
// the schedule's target (the refresher) synchronously with the schedule's
// input, and returns what the refresher reports (never a token).
func Refresh(ctx context.Context, s *planapply.Session, sandboxID string) (lambda.Result, error) {
	var res lambda.Result
	group, name := s.Names.ScheduleGroup(), s.Names.Schedule(sandboxID)
	sch, err := s.AWS.GetSchedule(ctx, group, name)
	if errors.Is(err, state.ErrNotFound) {
		return res, fmt.Errorf("sandbox %s has no refresh schedule %s in group %s; declare the sandbox in %s and run km apply", sandboxID, name, group, s.Env.ConfigPath)
	}
	if err != nil {
		return res, err
	}
	out, fnErr, err := s.AWS.Invoke(ctx, sch.TargetARN, []byte(sch.Input))
	if err != nil {
		return res, fmt.Errorf("invoking the refresher %s for sandbox %s: %w", sch.TargetARN, sandboxID, err)
	}
	if fnErr != "" {
		var e struct {
			Message string `json:"errorMessage"`
		}
		if json.Unmarshal(out, &e) != nil || e.Message == "" {
			e.Message = fnErr
		}
		return res, fmt.Errorf("the refresher failed for sandbox %s: %s", sandboxID, githubapp.Redact(e.Message))
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("the refresher %s answered for sandbox %s with something other than its result (%v); is the function km's refresher? run km plan", sch.TargetARN, sandboxID, err)
	}
	if res.HandedOn != nil {
		return res, fmt.Errorf("%w: GitHub is unavailable; the refresher keeps trying until %s (relay link %d), and the previous token stays in place",
			ErrRefreshHandedOn, res.HandedOn.Until.UTC().Format("2006-01-02T15:04:05Z"), res.HandedOn.Link)
	}
	return res, nil
}
