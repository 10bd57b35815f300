package main

import "errors"

// DestroyCmd is km destroy (not built yet).
type DestroyCmd struct{}

// Run implements km destroy.
func (c *DestroyCmd) Run(g *Globals) error { return errors.New("km destroy is not implemented yet") }
