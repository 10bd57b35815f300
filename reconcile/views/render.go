package views

import (
	"fmt"
	"io"

	"github.com/klankermaker/km/reconcile"
)

// The plan formats km renders (--format).
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// Options are what a rendering needs besides the plan.
type Options struct {
	Meta  reconcile.PlanMeta // JSON and Markdown
	Color bool               // text
	// TextHeader is written before a text rendering only (km show's line
	// about the saved plan).
	TextHeader string
}

// Render writes p in format ("" is text): the one place a format name picks
// a renderer.
func Render(w io.Writer, p *reconcile.Plan, format string, o Options) error {
	switch format {
	case "", FormatText:
		if o.TextHeader != "" {
			if _, err := io.WriteString(w, o.TextHeader); err != nil {
				return err
			}
		}
		return RenderText(w, p, TextOptions{Color: o.Color})
	case FormatJSON:
		return RenderJSON(w, p, o.Meta)
	case FormatMarkdown:
		return RenderMarkdown(w, p, MarkdownOptions{PlanMeta: o.Meta})
	}
	return fmt.Errorf("unknown format %q: expected text, json or markdown", format)
}
