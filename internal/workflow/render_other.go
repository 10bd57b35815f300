package workflow

import (
	"fmt"
	"io"

	"github.com/klankermaker/km/reconcile"
)

// renderOther renders a fresh plan (not saved) as JSON or Markdown.
func renderOther(w io.Writer, p *reconcile.Plan, format string) error {
	meta := reconcile.PlanMeta{KMVersion: KMVersion()}
	switch format {
	case "json":
		return reconcile.RenderJSON(w, p, meta)
	case "markdown":
		return reconcile.RenderMarkdown(w, p, reconcile.MarkdownOptions{PlanMeta: meta})
	}
	return fmt.Errorf("unknown format %q: expected text, json or markdown", format)
}
