package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klankermaker/km/internal/workflow"
)

// ListCmd is km list.
type ListCmd struct {
	Format string `name:"format" enum:"text,json" default:"text" help:"text or json."`
}

// Run implements km list.
func (c *ListCmd) Run(g *Globals) error {
	s, err := workflow.Open(g.Ctx, g.env())
	if err != nil {
		return err
	}
	if c.Format == "json" {
		r, err := s.ListReport(g.Ctx)
		if err != nil {
			return err
		}
		return workflow.WriteListJSON(g.Stdout, r)
	}
	rows, err := s.List(g.Ctx)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, dash(r.Profile), dash(strings.Join(r.Owners, ",")), exp, dash(r.TokenAge), dash(r.ScheduleState), r.Status)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
