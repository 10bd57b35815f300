package views

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/klankermaker/km/reconcile"
)

// TextOptions control the text renderer.
type TextOptions struct {
	Color bool
}

const (
	cReset  = "\x1b[0m"
	cGreen  = "\x1b[32m"
	cYellow = "\x1b[33m"
	cRed    = "\x1b[31m"
	cBold   = "\x1b[1m"
)

// RenderText writes the plan as Terraform writes it: one block per resource with
// + ~ - -/+ markers, attribute diffs, multi-line values diffed line by line,
// sensitive values hidden, and the closing "Plan:" line.
func RenderText(w io.Writer, p *reconcile.Plan, o TextOptions) error {
	tw := &textWriter{w: w, color: o.Color}
	for _, warn := range p.Warnings {
		tw.line(tw.paint(cYellow, "Warning: ") + warn)
		tw.line("")
	}
	if !p.HasChanges() {
		tw.line(tw.paint(cGreen+cBold, "No changes.") + " Your infrastructure matches the configuration.")
		tw.line("")
		tw.line("km has compared the declaration with live AWS and found no differences, so no changes are needed.")
		return tw.err
	}
	tw.line("km used the declaration and live AWS state to build this plan. Resource actions are indicated with the following symbols:")
	for _, a := range []reconcile.Action{reconcile.Create, reconcile.Update, reconcile.Delete, reconcile.Replace} {
		if count(p, a) > 0 {
			tw.line("  " + tw.marker(a) + " " + actionWord(a))
		}
	}
	tw.line("")
	tw.line("km will perform the following actions:")
	for i := range p.Changes {
		tw.line("")
		tw.change(&p.Changes[i])
	}
	tw.line("")
	add, change, destroy := p.Counts()
	tw.line(tw.paint(cBold, "Plan:") + fmt.Sprintf(" %d to add, %d to change, %d to destroy.", add, change, destroy))
	return tw.err
}

func count(p *reconcile.Plan, a reconcile.Action) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

func actionWord(a reconcile.Action) string {
	switch a {
	case reconcile.Create:
		return "create"
	case reconcile.Update:
		return "update in-place"
	case reconcile.Delete:
		return "destroy"
	case reconcile.Replace:
		return "destroy and then create replacement"
	}
	return string(a)
}

func headline(a reconcile.Action) string {
	switch a {
	case reconcile.Create:
		return "will be created"
	case reconcile.Update:
		return "will be updated in-place"
	case reconcile.Delete:
		return "will be destroyed"
	case reconcile.Replace:
		return "must be replaced"
	}
	return "unchanged"
}

type textWriter struct {
	w     io.Writer
	color bool
	err   error
}

func (t *textWriter) line(s string) {
	if t.err == nil {
		_, t.err = io.WriteString(t.w, s+"\n")
	}
}

func (t *textWriter) paint(code, s string) string {
	if !t.color {
		return s
	}
	return code + s + cReset
}

func (t *textWriter) marker(a reconcile.Action) string {
	switch a {
	case reconcile.Create:
		return t.paint(cGreen, "+")
	case reconcile.Update:
		return t.paint(cYellow, "~")
	case reconcile.Delete:
		return t.paint(cRed, "-")
	case reconcile.Replace:
		return t.paint(cRed, "-") + "/" + t.paint(cGreen, "+")
	}
	return " "
}

// addrName splits an address into the resource block's type and name labels.
// addrName is the resource's name as Terraform prints it in a block
// header: aws_ssm_parameter.installation["my-org"] -> installation (the
// instance key is dropped); a kind without a name, km_github_token["acme"],
// is named by its key -> acme.
func addrName(c *reconcile.Change) string {
	i := strings.LastIndex(c.Address, c.Type)
	if i < 0 {
		return c.Address
	}
	rest := c.Address[i+len(c.Type):]
	if name, ok := strings.CutPrefix(rest, "."); ok {
		if j := strings.IndexByte(name, '['); j > 0 {
			name = name[:j]
		}
		return name
	}
	if key, ok := strings.CutPrefix(rest, "["); ok {
		key = strings.TrimSuffix(key, "]")
		if k, err := strconv.Unquote(key); err == nil {
			return k
		}
		return key
	}
	return c.Address
}

func (t *textWriter) change(c *reconcile.Change) {
	t.line(t.paint(cBold, "  # "+c.Address) + " " + headline(c.Action))
	if c.Reason != "" {
		t.line("  # (" + c.Reason + ")")
	}
	t.line(fmt.Sprintf("  %s resource %q %q {", t.marker(c.Action), c.Type, addrName(c)))
	names := c.AttrNames()
	width := 0
	for _, n := range names {
		if len(n) > width {
			width = len(n)
		}
	}
	hidden := 0
	for _, n := range names {
		before, hasB := c.Before[n]
		after, hasA := c.After[n]
		pad := n + strings.Repeat(" ", width-len(n))
		sens := c.IsSensitive(n)
		switch {
		case c.Action == reconcile.Delete || (hasB && !hasA && c.Action != reconcile.Update):
			t.attr("-", cRed, pad, t.val(before, sens), "")
		case c.Action == reconcile.Create || (!hasB && hasA):
			t.attr("+", cGreen, pad, t.val(after, sens), "")
		case reconcile.EqualAttr(before, after) || after == "":
			hidden++
			if n == "name" || n == "id" || n == "key_id" || n == "arn" {
				t.line(fmt.Sprintf("        %s = %s", pad, t.val(before, sens)))
				hidden--
			}
		case sens:
			t.attr("~", cYellow, pad, "(sensitive value)", "")
		case strings.Contains(before, "\n") || strings.Contains(after, "\n"):
			t.multiline(pad, before, after)
		default:
			note := ""
			if slices.Contains(c.ForceNew, n) {
				note = t.paint(cRed, " # forces replacement")
			}
			t.attr("~", cYellow, pad, quote(before)+" -> "+quote(after), note)
		}
	}
	if hidden > 0 && c.Action != reconcile.Create && c.Action != reconcile.Delete {
		t.line(fmt.Sprintf("        # (%d unchanged attributes hidden)", hidden))
	}
	t.line("    }")
}

func (t *textWriter) attr(m, code, name, val, note string) {
	t.line(fmt.Sprintf("      %s %s = %s%s", t.paint(code, m), name, val, note))
}

func (t *textWriter) val(v string, sensitive bool) string {
	switch {
	case sensitive:
		return "(sensitive value)"
	case v == reconcile.Unknown:
		return reconcile.Unknown
	case strings.Contains(v, "\n"):
		lines := strings.Split(v, "\n")
		var b strings.Builder
		b.WriteString("<<-EOT\n")
		for _, l := range lines {
			b.WriteString("            " + l + "\n")
		}
		b.WriteString("        EOT")
		return b.String()
	}
	return quote(v)
}

// multiline diffs two documents line by line (github.com/sergi/go-diff).
func (t *textWriter) multiline(name, before, after string) {
	t.line(fmt.Sprintf("      %s %s = <<-EOT", t.paint(cYellow, "~"), name))
	before, after = reconcile.NormalizeJSONOr(before), reconcile.NormalizeJSONOr(after)
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(before+"\n", after+"\n")
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)
	for _, d := range diffs {
		for _, l := range strings.Split(strings.TrimSuffix(d.Text, "\n"), "\n") {
			switch d.Type {
			case diffmatchpatch.DiffDelete:
				t.line("          " + t.paint(cRed, "- "+l))
			case diffmatchpatch.DiffInsert:
				t.line("          " + t.paint(cGreen, "+ "+l))
			default:
				t.line("            " + l)
			}
		}
	}
	t.line("        EOT")
}

func quote(s string) string {
	if s == reconcile.Unknown {
		return s
	}
	return fmt.Sprintf("%q", s)
}
