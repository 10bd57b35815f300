package kmyaml

import (
	"errors"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/klankermaker/km/profiles"
)

// errNeedNodeEdit means a text splice cannot express the edit (flow style,
// multi-line scalars, ...); the caller falls back to yaml.v3 node editing.
var errNeedNodeEdit = errors.New("text splice not possible")

// textFile is a file split into lines, each keeping its own terminator, so that
// untouched lines are written back byte for byte.
type textFile struct {
	lines []string // with terminators; the last may have none
	nl    string   // terminator for inserted lines: the file's own style
	edits []textEdit
}

type editKind uint8

const (
	editReplace editKind = iota
	editInsert
	editDelete
)

// textEdit changes the file relative to its original line numbers (1-based).
type textEdit struct {
	kind       editKind
	line       int      // replace: the line; insert: after this line (0 = top); delete: first line
	to         int      // delete: last line, inclusive
	start, end int      // replace: byte offsets within the line (without terminator)
	text       string   // replace: the new text
	add        []string // insert: lines without terminators
	seq        int
}

func newTextFile(data []byte) *textFile {
	tf := &textFile{nl: "\n"}
	s := string(data)
	if strings.Contains(s, "\r\n") {
		tf.nl = "\r\n"
	}
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			tf.lines = append(tf.lines, s)
			break
		}
		tf.lines = append(tf.lines, s[:i+1])
		s = s[i+1:]
	}
	return tf
}

// text returns line n (1-based) without its terminator.
func (tf *textFile) text(n int) string {
	if n < 1 || n > len(tf.lines) {
		return ""
	}
	return strings.TrimRight(tf.lines[n-1], "\r\n")
}

func (tf *textFile) insertAfter(line int, add ...string) {
	tf.edits = append(tf.edits, textEdit{kind: editInsert, line: line, add: add, seq: len(tf.edits)})
}

func (tf *textFile) deleteLines(from, to int) {
	tf.edits = append(tf.edits, textEdit{kind: editDelete, line: from, to: to, seq: len(tf.edits)})
}

func (tf *textFile) replace(line, start, end int, text string) {
	tf.edits = append(tf.edits, textEdit{kind: editReplace, line: line, start: start, end: end, text: text, seq: len(tf.edits)})
}

// render applies the edits. Inserts after the same line keep the order they were made in.
func (tf *textFile) render() []byte {
	sort.SliceStable(tf.edits, func(i, j int) bool { return tf.edits[i].seq < tf.edits[j].seq })
	var b strings.Builder
	emitInserts := func(after int) {
		for _, e := range tf.edits {
			if e.kind == editInsert && e.line == after {
				for _, l := range e.add {
					b.WriteString(l)
					b.WriteString(tf.nl)
				}
			}
		}
	}
	emitInserts(0)
	for n := 1; n <= len(tf.lines); n++ {
		deleted := false
		line := tf.lines[n-1]
		for _, e := range tf.edits {
			switch {
			case e.kind == editDelete && n >= e.line && n <= e.to:
				deleted = true
			case e.kind == editReplace && e.line == n:
				body := tf.text(n)
				line = body[:e.start] + e.text + body[e.end:] + line[len(body):]
			}
		}
		if !deleted {
			if n == len(tf.lines) && !strings.HasSuffix(line, "\n") && tf.hasInsertAfter(n) {
				line += tf.nl
			}
			b.WriteString(line)
		}
		emitInserts(n)
	}
	return []byte(b.String())
}

func (tf *textFile) hasInsertAfter(n int) bool {
	for _, e := range tf.edits {
		if e.kind == editInsert && e.line == n {
			return true
		}
	}
	return false
}

func indentOf(line string) int {
	return len(line) - len(strings.TrimLeft(line, " "))
}

// blockEnd returns the last line of the block that starts at line start and whose
// lines are indented more than parentIndent. Blank lines and comments indented no
// deeper than parentIndent are passed over but never end up inside the block.
func (tf *textFile) blockEnd(start, parentIndent int) int {
	last := start
	for n := start + 1; n <= len(tf.lines); n++ {
		t := tf.text(n)
		trimmed := strings.TrimSpace(t)
		if trimmed == "" {
			continue
		}
		if indentOf(t) > parentIndent {
			last = n
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		break
	}
	return last
}

// byteCol converts a yaml column (1-based, in characters) to a byte offset in line.
func byteCol(line string, col int) int {
	i := 0
	for k := range line {
		if i == col-1 {
			return k
		}
		i++
	}
	return len(line)
}

// scalarSpan returns the byte span of a single-line scalar node's text on its line.
func (tf *textFile) scalarSpan(n *yaml.Node) (start, end int, err error) {
	if n.Kind != yaml.ScalarNode || n.Line < 1 || n.Line > len(tf.lines) || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 || n.Anchor != "" {
		return 0, 0, errNeedNodeEdit
	}
	line := tf.text(n.Line)
	start = byteCol(line, n.Column)
	rest := line[start:]
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for k := 1; k < len(rest); k++ {
			if rest[k] == '\\' {
				k++
				continue
			}
			if rest[k] == '"' {
				return start, start + k + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for k := 1; k < len(rest); k++ {
			if rest[k] == '\'' {
				if k+1 < len(rest) && rest[k+1] == '\'' {
					k++
					continue
				}
				return start, start + k + 1, nil
			}
		}
	default:
		if strings.HasPrefix(rest, n.Value) {
			return start, start + len(n.Value), nil
		}
	}
	return 0, 0, errNeedNodeEdit
}

// replaceScalar replaces a single-line scalar's text with text.
func (tf *textFile) replaceScalar(n *yaml.Node, text string) error {
	start, end, err := tf.scalarSpan(n)
	if err != nil {
		return err
	}
	tf.replace(n.Line, start, end, text)
	return nil
}

// clearEmptyValue removes an explicit null (~, null) or an empty flow collection
// ([] or {}) written on the key's line, so that block content can follow the key.
// It reports false when the value is something else.
func (tf *textFile) clearEmptyValue(key, val *yaml.Node) bool {
	switch {
	case profiles.IsNullNode(val) && val.Kind == yaml.ScalarNode:
		if val.Value == "" {
			return true
		}
		if val.Line != key.Line {
			return false
		}
		start, end, err := tf.scalarSpan(val)
		if err != nil {
			return false
		}
		tf.clearSpan(val.Line, start, end)
		return true
	case (val.Kind == yaml.SequenceNode || val.Kind == yaml.MappingNode) && len(val.Content) == 0 && val.Style&yaml.FlowStyle != 0 && val.Line == key.Line:
		line := tf.text(val.Line)
		start := byteCol(line, val.Column)
		closer := "]"
		if val.Kind == yaml.MappingNode {
			closer = "}"
		}
		end := strings.Index(line[start:], closer)
		if end < 0 || strings.TrimSpace(line[start+1:start+end]) != "" {
			return false
		}
		tf.clearSpan(val.Line, start, start+end+1)
		return true
	}
	return false
}

// clearSpan removes a span, and the spaces before it when nothing follows.
func (tf *textFile) clearSpan(line, start, end int) {
	t := tf.text(line)
	if strings.TrimSpace(t[end:]) == "" {
		start = len(strings.TrimRight(t[:start], " "))
		end = len(t)
	}
	tf.replace(line, start, end, "")
}

// yamlScalar renders s as a YAML scalar, quoted only when YAML needs it.
func yamlScalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return `"` + s + `"`
	}
	return strings.TrimSuffix(string(out), "\n")
}

func spaces(n int) string { return strings.Repeat(" ", max(n, 0)) }
