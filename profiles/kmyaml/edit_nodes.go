package kmyaml

import (
	"bytes"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/klankermaker/km/profiles"
)

// The node edits below are the fallback when a text splice cannot express a
// change (flow style, multi-line scalars, anchors): yaml.v3 keeps comments but
// may re-indent and re-quote the file.

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func intNode(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: itoa(v)}
}

// ensureRoot returns the document's top-level mapping, creating it for an empty document.
func ensureRoot(doc *yaml.Node) *yaml.Node {
	if len(doc.Content) == 0 {
		doc.Kind = yaml.DocumentNode
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	return profiles.ResolveNode(doc.Content[0])
}

// setEntry sets key to val in mapping m (appending the key when absent).
func setEntry(m *yaml.Node, key string, val *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			val.LineComment = m.Content[i+1].LineComment
			m.Content[i+1] = val
			return
		}
	}
	m.Content = append(m.Content, strNode(key), val)
}

// ensureChild returns the collection under key, replacing a null value by an
// empty collection of the given kind.
func ensureChild(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	if _, v := mapLookup(m, key); v != nil && !profiles.IsNullNode(v) {
		return v
	}
	tag := "!!map"
	if kind == yaml.SequenceNode {
		tag = "!!seq"
	}
	n := &yaml.Node{Kind: kind, Tag: tag}
	setEntry(m, key, n)
	return n
}

func nodesAddSandbox(doc *yaml.Node, sb profiles.Sandbox) error {
	seq := ensureChild(ensureRoot(doc), "sandboxes", yaml.SequenceNode)
	item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: seq.Style & yaml.FlowStyle}
	item.Content = append(item.Content, strNode("id"), strNode(sb.ID), strNode("profile"), strNode(sb.Profile))
	if sb.Principal != "" {
		item.Content = append(item.Content, strNode("principal"), strNode(sb.Principal))
	}
	seq.Content = append(seq.Content, item)
	return nil
}

func nodesRemoveSandbox(doc *yaml.Node, id string) error {
	_, seq := mapLookup(ensureRoot(doc), "sandboxes")
	seq.Content = slices.DeleteFunc(seq.Content, func(it *yaml.Node) bool {
		_, v := mapLookup(profiles.ResolveNode(it), "id")
		return v != nil && v.Value == id
	})
	return nil
}

func nodesSetGitHub(doc *yaml.Node, u GitHubUpdate) error {
	gh := ensureChild(ensureRoot(doc), "github", yaml.MappingNode)
	if u.AppClientID != nil {
		setEntry(gh, "appClientId", strNode(*u.AppClientID))
	}
	if u.AppID != nil {
		setEntry(gh, "appId", intNode(*u.AppID))
	}
	if u.PrivateKeyFile != nil {
		setEntry(gh, "privateKeyFile", strNode(*u.PrivateKeyFile))
	}
	if len(u.Installations) > 0 {
		inst := ensureChild(gh, "installations", yaml.MappingNode)
		for _, acct := range sortedAccounts(u.Installations) {
			key := acct
			if k, _ := mapLookupFold(inst, acct); k != nil {
				key = k.Value
			}
			setEntry(inst, key, intNode(u.Installations[acct]))
		}
	}
	return nil
}

// encodeDoc writes a document back with two-space indentation.
func encodeDoc(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if len(doc.Content) == 0 {
		return nil, nil
	}
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(strings.TrimPrefix(b.String(), "---\n")), nil
}
