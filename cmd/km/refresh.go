package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/internal/sandboxes"
)

// RefreshCmd is km refresh.
type RefreshCmd struct {
	ID     string `arg:"" name:"id" help:"Sandbox id."`
	Format string `name:"format" enum:"text,json" default:"text" help:"text or json."`
}

// Run implements km refresh.
func (c *RefreshCmd) Run(g *Globals) error {
	s, err := planapply.Open(g.Ctx, g.env())
	if err != nil {
		return err
	}
	res, err := sandboxes.Refresh(g.Ctx, s, c.ID)
	if err != nil {
		return err
	}
	if c.Format == "json" {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	for _, t := range res.Tokens {
		fmt.Fprintf(g.Stdout, "%s: refreshed the token of %s in %s (expires %s, sha256 %s)\n",
			res.SandboxID, t.Owner, t.Parameter, t.ExpiresAt.UTC().Format(time.RFC3339), t.TokenSHA)
	}
	return nil
}
