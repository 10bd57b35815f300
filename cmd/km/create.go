package main

import "errors"

// CreateCmd is km create (not built yet).
type CreateCmd struct{}

// Run implements km create.
func (c *CreateCmd) Run(g *Globals) error { return errors.New("km create is not implemented yet") }
