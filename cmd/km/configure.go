package main

import "errors"

// ConfigureCmd is km configure (not built yet).
type ConfigureCmd struct{}

// Run implements km configure.
func (c *ConfigureCmd) Run(g *Globals) error { return errors.New("km configure is not implemented yet") }
