package views

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/klankermaker/km/reconcile"
)

// MarkdownOptions control the Markdown renderer.
type MarkdownOptions struct {
	reconcile.PlanMeta
	// MaxTableRows caps the per-sandbox table (default 25 sandbox rows; the rest
	// are summed up in one row).
	MaxTableRows int
	// MaxListed caps the destroyed/replaced resources listed in the warning
	// (default 20).
	MaxListed int
	// MaxDiffRunes cuts the diff after this many characters (whole lines),
	// with a note saying so; 0 keeps it whole.
	MaxDiffRunes int
}

func (o MarkdownOptions) maxRows() int {
	if o.MaxTableRows > 0 {
		return o.MaxTableRows
	}
	return 25
}

func (o MarkdownOptions) maxListed() int {
	if o.MaxListed > 0 {
		return o.MaxListed
	}
	return 20
}

// RenderMarkdown writes the plan for a pull-request comment: a title, the
// summary line, a caution when anything is destroyed or replaced, the plan's
// warnings, a short per-sandbox table, and the full diff inside <details> in a
// ```diff block. Everything a reviewer must see comes before the <details>, so
// that it stays in the first comment when a long plan is split.
func RenderMarkdown(w io.Writer, p *reconcile.Plan, o MarkdownOptions) error {
	var b strings.Builder
	b.WriteString("### " + markdownTitle(p, o) + "\n\n")
	if !p.HasChanges() {
		b.WriteString("**No changes.** Your infrastructure matches the configuration.\n")
		for _, warn := range p.Warnings {
			b.WriteString("\n> [!WARNING]\n> " + mdText(warn) + "\n")
		}
		b.WriteString(markdownFooter(p, o))
		_, err := io.WriteString(w, b.String())
		return err
	}
	add, change, destroy := p.Counts()
	fmt.Fprintf(&b, "**Plan:** %d to add, %d to change, %d to destroy.\n", add, change, destroy)
	markdownDestructive(&b, p, o)
	for _, warn := range p.Warnings {
		b.WriteString("\n> [!WARNING]\n> " + mdText(warn) + "\n")
	}
	b.WriteString("\n")
	markdownTable(&b, p, o)
	diff, err := planDiff(p)
	if err != nil {
		return err
	}
	diff, cut := cutDiff(diff, o.MaxDiffRunes)
	fence := strings.Repeat("`", max(3, longestRun(diff, '`')+1))
	fmt.Fprintf(&b, "\n<details><summary>Show the full plan (%d resource changes)</summary>\n\n", len(p.Changes))
	b.WriteString(fence + "diff\n" + diff + fence + "\n")
	if cut > 0 {
		fmt.Fprintf(&b, "\n*The diff was cut short here: %d more lines. Run `km show PLANFILE` on the saved plan to see all of it.*\n", cut)
	}
	b.WriteString("\n</details>\n")
	b.WriteString(markdownFooter(p, o))
	_, err = io.WriteString(w, b.String())
	return err
}

func markdownTitle(p *reconcile.Plan, o MarkdownOptions) string {
	t := "km plan"
	if o.Declaration != "" {
		t += " for `" + codeSafe(o.Declaration) + "`"
	}
	var where []string
	if p.Prefix != "" {
		where = append(where, "prefix `"+codeSafe(p.Prefix)+"`")
	}
	if p.Region != "" {
		where = append(where, codeSafe(p.Region))
	}
	if len(where) > 0 {
		t += " (" + strings.Join(where, ", ") + ")"
	}
	return t
}

// markdownFooter identifies the declaration and km version; it holds nothing
// that changes between two plans of the same state, so an unchanged plan yields
// an unchanged comment.
func markdownFooter(p *reconcile.Plan, o MarkdownOptions) string {
	var parts []string
	if p.DeclarationHash != "" {
		h := p.DeclarationHash
		if len(h) > 12 {
			h = h[:12]
		}
		parts = append(parts, "declaration "+h)
	}
	if o.KMVersion != "" {
		parts = append(parts, "km "+mdText(o.KMVersion))
	}
	if len(parts) == 0 {
		return ""
	}
	return "\n<sub>" + strings.Join(parts, " · ") + "</sub>\n"
}

// markdownDestructive lists what is destroyed or replaced, in a caution block.
func markdownDestructive(b *strings.Builder, p *reconcile.Plan, o MarkdownOptions) {
	var hits []*reconcile.Change
	for i := range p.Changes {
		if a := p.Changes[i].Action; a == reconcile.Delete || a == reconcile.Replace {
			hits = append(hits, &p.Changes[i])
		}
	}
	if len(hits) == 0 {
		return
	}
	replaced := 0
	for _, c := range hits {
		if c.Action == reconcile.Replace {
			replaced++
		}
	}
	fmt.Fprintf(b, "\n> [!CAUTION]\n> **This plan destroys %d and replaces %d resource(s).** Check them before applying:\n",
		len(hits)-replaced, replaced)
	for i, c := range hits {
		if i == o.maxListed() {
			fmt.Fprintf(b, "> - … and %d more (see the full plan below)\n", len(hits)-i)
			break
		}
		verb := "destroyed"
		if c.Action == reconcile.Replace {
			verb = "replaced"
		}
		line := "> - `" + codeSafe(c.Address) + "` will be **" + verb + "**"
		if c.Reason != "" {
			line += ": " + mdText(c.Reason)
		}
		b.WriteString(line + "\n")
	}
}

type sandboxRow struct {
	name                 string
	add, change, destroy int
	items                []string
}

// markdownTable writes one row for the shared resources and one per sandbox,
// capped at MaxTableRows sandbox rows.
func markdownTable(b *strings.Builder, p *reconcile.Plan, o MarkdownOptions) {
	rows := map[string]*sandboxRow{}
	var order []string
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == reconcile.NoOp {
			continue
		}
		r := rows[c.Sandbox]
		if r == nil {
			r = &sandboxRow{name: c.Sandbox}
			rows[c.Sandbox] = r
			order = append(order, c.Sandbox)
		}
		switch c.Action {
		case reconcile.Create:
			r.add++
		case reconcile.Update:
			r.change++
		case reconcile.Delete:
			r.destroy++
		case reconcile.Replace:
			r.add++
			r.destroy++
		}
		r.items = append(r.items, shortAddr(c)+" "+actionSymbol(c.Action))
	}
	sort.Strings(order) // "" (shared) first
	b.WriteString("| Sandbox | Add | Change | Destroy | Resources |\n|---|--:|--:|--:|---|\n")
	shown := 0
	var rest sandboxRow
	restCount := 0
	for _, name := range order {
		r := rows[name]
		if name != "" && shown == o.maxRows() {
			restCount++
			rest.add, rest.change, rest.destroy = rest.add+r.add, rest.change+r.change, rest.destroy+r.destroy
			continue
		}
		if name != "" {
			shown++
		}
		label := "*shared*"
		if name != "" {
			label = "`" + codeSafe(name) + "`"
		}
		fmt.Fprintf(b, "| %s | %d | %d | %d | %s |\n", label, r.add, r.change, r.destroy, tableItems(r.items))
	}
	if restCount > 0 {
		fmt.Fprintf(b, "| … %d more sandboxes | %d | %d | %d | see the full plan |\n", restCount, rest.add, rest.change, rest.destroy)
	}
}

const maxTableItems = 4

func tableItems(items []string) string {
	if len(items) > maxTableItems {
		items = append(items[:maxTableItems:maxTableItems], fmt.Sprintf("+%d more", len(items)-maxTableItems))
	}
	return strings.Join(items, ", ")
}

// shortAddr is the address without its sandbox["id"]. prefix, as inline code.
func shortAddr(c *reconcile.Change) string {
	a := c.Address
	if c.Sandbox != "" {
		a = strings.TrimPrefix(a, reconcile.SandboxAddr(c.Sandbox)+".")
	}
	return "`" + codeSafe(a) + "`"
}

func actionSymbol(a reconcile.Action) string {
	switch a {
	case reconcile.Create:
		return "(+)"
	case reconcile.Update:
		return "(~)"
	case reconcile.Delete:
		return "(−)"
	case reconcile.Replace:
		return "(−/+)"
	}
	return ""
}

// planDiff renders every change as the text renderer does (no colour) with the
// action marker moved to the first column, the form GitHub's diff highlighting
// colours: + create, - destroy, ! update or replace.
func planDiff(p *reconcile.Plan) (string, error) {
	var buf bytes.Buffer
	for i := range p.Changes {
		if i > 0 {
			buf.WriteString("\n")
		}
		tw := &textWriter{w: &buf}
		tw.change(&p.Changes[i])
		if tw.err != nil {
			return "", tw.err
		}
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = diffLine(l)
	}
	return strings.Join(lines, "\n") + "\n", nil
}

var markerRE = regexp.MustCompile(`^( +)(-/\+|[-+~])( |$)`)

func diffLine(l string) string {
	m := markerRE.FindStringSubmatchIndex(l)
	if m == nil {
		if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") || strings.HasPrefix(l, "!") {
			return " " + l // never mistaken for a marker
		}
		return l
	}
	indent, marker := l[m[2]:m[3]], l[m[4]:m[5]]
	sym := marker
	switch marker {
	case "~", "-/+":
		sym = "!"
	}
	return sym + indent[1:] + " " + l[m[5]:]
}

// cutDiff keeps the whole lines of diff that fit in limit characters and
// returns how many lines it dropped.
func cutDiff(diff string, limit int) (string, int) {
	if limit <= 0 || utf8.RuneCountInString(diff) <= limit {
		return diff, 0
	}
	lines := strings.SplitAfter(strings.TrimSuffix(diff, "\n"), "\n")
	n, kept := 0, 0
	for kept < len(lines) {
		l := utf8.RuneCountInString(lines[kept])
		if n+l > limit {
			break
		}
		n += l
		kept++
	}
	out := strings.Join(lines[:kept], "")
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out, len(lines) - kept
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// mdText escapes text for Markdown outside code: no HTML, no table breaks.
var mdReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`, "`", "'", "\n", " ")

func mdText(s string) string { return mdReplacer.Replace(s) }

// codeSafe keeps an inline code span intact.
func codeSafe(s string) string { return strings.NewReplacer("`", "'", "\n", " ", "|", `\|`).Replace(s) }
