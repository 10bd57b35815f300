package workflow

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/klankermaker/km/reconcile"
)

func renderOther(w io.Writer, p *reconcile.Plan, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	return fmt.Errorf("unknown format %q: expected text, json or markdown", format)
}
