package main

import "errors"

// CommentCmd is km comment (not built yet).
type CommentCmd struct{}

// Run implements km comment.
func (c *CommentCmd) Run(g *Globals) error { return errors.New("km comment is not implemented yet") }
