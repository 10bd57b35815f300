package main

import "errors"

// ListCmd is km list (not built yet).
type ListCmd struct{}

// Run implements km list.
func (c *ListCmd) Run(g *Globals) error { return errors.New("km list is not implemented yet") }
