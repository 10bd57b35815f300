package main

import "errors"

// ShowCmd is km show (not built yet).
type ShowCmd struct{}

// Run implements km show.
func (c *ShowCmd) Run(g *Globals) error { return errors.New("km show is not implemented yet") }
