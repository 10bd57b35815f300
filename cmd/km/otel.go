package main

import "errors"

// OtelCmd is km otel (not built yet).
type OtelCmd struct{}

// Run implements km otel.
func (c *OtelCmd) Run(g *Globals) error { return errors.New("km otel is not implemented yet") }
