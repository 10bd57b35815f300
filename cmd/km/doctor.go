package main

import "errors"

// DoctorCmd is km doctor (not built yet).
type DoctorCmd struct{}

// Run implements km doctor.
func (c *DoctorCmd) Run(g *Globals) error { return errors.New("km doctor is not implemented yet") }
