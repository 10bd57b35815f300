package main

import (
	"errors"
	"time"

	"github.com/klankermaker/km/internal/otel"
)

// OtelCmd is km otel.
type OtelCmd struct {
	SandboxID string        `arg:"" name:"sandbox-id" help:"The sandbox whose refresher events to show."`
	Events    bool          `name:"events" help:"Show the refresher's log events (token_refreshed, token_refresh_failed)."`
	Since     time.Duration `name:"since" default:"1h" help:"How far back to look."`
	Format    string        `name:"format" enum:"text,json" default:"text" help:"Output format: text or json."`
}

// Run implements km otel.
func (c *OtelCmd) Run(g *Globals) error {
	if !c.Events {
		return errors.New("km otel shows the refresher's log events: pass --events")
	}
	l, err := otel.ReadEvents(g.Ctx, g.env(), otel.EventsOptions{SandboxID: c.SandboxID, Since: c.Since})
	if err != nil {
		return err
	}
	if c.Format == "json" {
		return otel.WriteEventsJSON(g.Stdout, l)
	}
	return otel.WriteEventsText(g.Stdout, c.SandboxID, c.Since, l.Events)
}
