package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/sandboxes"
)

// ListCmd is km list.
type ListCmd struct {
	Format string `name:"format" enum:"text,json" default:"text" help:"text or json."`
}

// Run implements km list.
func (c *ListCmd) Run(g *Globals) error {
	s, err := planapply.Open(g.Ctx, g.env())
	if err != nil {
		return err
	}
	if c.Format == "json" {
		r, err := sandboxes.Report(g.Ctx, s)
		if err != nil {
			return err
		}
		return sandboxes.WriteListJSON(g.Stdout, r)
	}
	rows, err := sandboxes.List(g.Ctx, s)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "SANDBOX\tPROFILE\tOWNERS\tTOKEN EXPIRES\tTOKEN AGE\tSCHEDULE\tSTATUS")
	for _, r := range rows {
		exp := "-"
		if !r.TokenExpires.IsZero() {
			exp = r.TokenExpires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, dash(r.Profile), dash(owners(r)), exp, dash(r.TokenAge), dash(r.ScheduleState), r.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var unrevoked []string
	for _, r := range rows {
		for _, u := range r.Unrevoked {
			unrevoked = append(unrevoked, fmt.Sprintf("  %s  %s  %s  valid until %s", u.Sandbox, u.Hash(), u.Parameter, u.ExpiresAt.UTC().Format(time.RFC3339)))
		}
	}
	if len(unrevoked) > 0 {
		fmt.Fprintf(g.Stdout, "\nRetired tokens km could not revoke (valid until they expire):\n%s\n", strings.Join(unrevoked, "\n"))
	}
	return nil
}

// owners are the owners whose tokens the sandbox holds, with the declared
// ones when they differ (apply has not caught up yet).
func owners(r sandboxes.SandboxStatus) string {
	live, declared := strings.Join(r.TokenOwners, ","), strings.Join(r.Owners, ",")
	sorted := slices.Sorted(slices.Values(r.Owners))
	switch {
	case live == "":
		return declared
	case declared == "" || strings.EqualFold(live, strings.Join(sorted, ",")):
		return declared
	}
	return live + " (declared: " + declared + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
