package main

import "github.com/klankermaker/km/internal/doctor"

// DoctorCmd is km doctor.
type DoctorCmd struct {
	Format string `name:"format" enum:"text,json" default:"text" help:"Output format: text or json."`
}

// Run implements km doctor: exit 1 when any check fails.
func (c *DoctorCmd) Run(g *Globals) error {
	r := doctor.Doctor(g.Ctx, g.env())
	var err error
	if c.Format == "json" {
		err = r.WriteJSON(g.Stdout)
	} else {
		err = r.WriteText(g.Stdout, g.color())
	}
	if err != nil {
		return err
	}
	if r.Failed() {
		return ExitError{Code: 1}
	}
	return nil
}
