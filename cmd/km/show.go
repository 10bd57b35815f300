package main

import "github.com/klankermaker/km/internal/planapply"

// ShowCmd is km show: render a saved plan file.
type ShowCmd struct {
	Format   string `name:"format" enum:"text,json,markdown" default:"text" help:"Output format: text, json or markdown."`
	PlanFile string `arg:"" name:"planfile" help:"A plan saved with km plan --out." type:"path"`
}

// Run implements km show.
func (c *ShowCmd) Run(g *Globals) error {
	return planapply.ShowPlanFile(g.Stdout, c.PlanFile, c.Format, g.color())
}
