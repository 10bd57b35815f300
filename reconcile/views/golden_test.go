package views

import (
	"bytes"
	"flag"
	"path/filepath"
	"testing"

	"github.com/klankermaker/km/internal/schematest"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/plantest"
)

// go test ./reconcile/views -run TestRenderGolden -update rewrites testdata/golden.
var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func TestRenderGolden(t *testing.T) {
	renderers := []struct {
		ext    string
		render func(*bytes.Buffer, *reconcile.Plan) error
	}{
		{"txt", func(b *bytes.Buffer, p *reconcile.Plan) error { return RenderText(b, p, TextOptions{}) }},
		{"json", func(b *bytes.Buffer, p *reconcile.Plan) error { return RenderJSON(b, p, plantest.Meta()) }},
		{"md", func(b *bytes.Buffer, p *reconcile.Plan) error {
			return RenderMarkdown(b, p, MarkdownOptions{PlanMeta: plantest.Meta()})
		}},
	}
	for name, p := range plantest.Plans() {
		for _, r := range renderers {
			t.Run(name+"."+r.ext, func(t *testing.T) {
				var got bytes.Buffer
				if err := r.render(&got, p); err != nil {
					t.Fatal(err)
				}
				schematest.Golden(t, filepath.Join("testdata", "golden", name+"."+r.ext), got.Bytes(), *updateGolden)
			})
		}
	}
}
