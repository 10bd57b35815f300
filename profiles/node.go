package profiles

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder reads yaml.Node trees of one file, reporting problems with positions.
type decoder struct {
	c    *collector
	file string // the file as the user would write it
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errf(n *yaml.Node, format string, args ...any) {
	d.c.addf(d.pos(n), format, args...)
}

// wrongType reports that what holds the wrong kind of value.
func (d *decoder) wrongType(n *yaml.Node, what, expected string) {
	d.errf(n, "%s: found %s; expected %s", what, DescribeNode(n), expected)
}

// resolve follows aliases (*anchor) to the node they name.
func ResolveNode(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func IsNullNode(n *yaml.Node) bool {
	n = ResolveNode(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node holds, for "found ..." messages. Scalar values are
// shown through show, so a pasted secret is never echoed.
func DescribeNode(n *yaml.Node) string {
	n = ResolveNode(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "an empty value"
	case "!!str":
		return "the string " + ShowValue(n.Value)
	case "!!int":
		return "the integer " + ShowValue(n.Value)
	case "!!float":
		return "the number " + ShowValue(n.Value)
	case "!!bool":
		return "the boolean " + ShowValue(n.Value)
	default:
		return "a " + n.ShortTag() + " value"
	}
}

// field is one key/value pair of a mapping.
type field struct {
	key, val *yaml.Node
}

// fields reads a mapping. It reports duplicate keys and, when known is not nil,
// keys not in known (suggesting the closest). Unknown keys are left out of the result.
func (d *decoder) fields(n *yaml.Node, section string, known []string) map[string]field {
	out := map[string]field{}
	n = ResolveNode(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := ResolveNode(n.Content[i]), n.Content[i+1]
		name := k.Value
		if k.Kind != yaml.ScalarNode {
			d.errf(k, "%s: found %s as a key; expected a key name", section, DescribeNode(k))
			continue
		}
		if prev, dup := out[name]; dup {
			d.errf(k, "%s: duplicate key %q (first at line %d); remove one of them", section, name, prev.key.Line)
			continue
		}
		if known != nil && !contains(known, name) {
			d.errf(k, "%s: unknown key %s; expected one of %s%s", section, ShowValue(name), strings.Join(known, ", "), DidYouMean(name, known))
			continue
		}
		out[name] = field{key: k, val: v}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isMapping checks that n is a mapping; null counts as an empty one.
func (d *decoder) isMapping(n *yaml.Node, what string) bool {
	n = ResolveNode(n)
	if IsNullNode(n) {
		return false
	}
	if n.Kind != yaml.MappingNode {
		d.wrongType(n, what, "a mapping of keys to values")
		return false
	}
	return true
}

// list returns the items of a sequence; null is an empty list.
func (d *decoder) list(n *yaml.Node, what, expected string) ([]*yaml.Node, bool) {
	n = ResolveNode(n)
	if IsNullNode(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.wrongType(n, what, expected)
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = ResolveNode(c)
	}
	return out, true
}

// str reads a string scalar. Null yields ("", false) without a report.
func (d *decoder) str(n *yaml.Node, what, expected string) (string, bool) {
	n = ResolveNode(n)
	if IsNullNode(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.wrongType(n, what, expected)
		return "", false
	}
	return n.Value, true
}

// scalarText reads any non-null scalar as text (for values such as ref names that
// YAML might read as numbers, like 1.0).
func (d *decoder) scalarText(n *yaml.Node, what, expected string) (string, bool) {
	n = ResolveNode(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.wrongType(n, what, expected)
		return "", false
	}
	return n.Value, true
}

// integer reads an integer scalar (decimal, 0x, 0o and _ separators as YAML allows).
func (d *decoder) integer(n *yaml.Node, what, expected string) (int64, bool) {
	n = ResolveNode(n)
	if IsNullNode(n) {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.wrongType(n, what, expected)
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		d.errf(n, "%s: %s does not fit in a 64-bit integer; expected %s", what, ShowValue(n.Value), expected)
		return 0, false
	}
	return v, true
}

// int32In reads an integer and checks it lies in [lo, hi].
func (d *decoder) int32In(n *yaml.Node, what string, lo, hi int64) (int32, bool) {
	expected := fmt.Sprintf("an integer from %d to %d", lo, hi)
	v, ok := d.integer(n, what, expected)
	if !ok {
		return 0, false
	}
	if v < lo || v > hi {
		d.errf(n, "%s: found %s; expected %s", what, strconv.FormatInt(v, 10), expected)
		return 0, false
	}
	return int32(v), true
}
