package main

import "errors"

// GithubCmd is km github (not built yet).
type GithubCmd struct{}

// Run implements km github.
func (c *GithubCmd) Run(g *Globals) error { return errors.New("km github is not implemented yet") }
