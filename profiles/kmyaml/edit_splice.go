package kmyaml

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/klankermaker/km/profiles"
)

// sandboxLines renders one sandboxes entry: the dash at dashIndent, keys at keyIndent.
func sandboxLines(sb profiles.Sandbox, dashIndent, keyIndent int) []string {
	gap := max(keyIndent-dashIndent-1, 1)
	keyIndent = dashIndent + 1 + gap
	out := []string{
		spaces(dashIndent) + "-" + spaces(gap) + "id: " + yamlScalar(sb.ID),
		spaces(keyIndent) + "profile: " + yamlScalar(sb.Profile),
	}
	if sb.Principal != "" {
		out = append(out, spaces(keyIndent)+"principal: "+yamlScalar(sb.Principal))
	}
	return out
}

func isBlock(n *yaml.Node) bool { return n.Style&yaml.FlowStyle == 0 }

func spliceAddSandbox(tf *textFile, root *yaml.Node, sb profiles.Sandbox) error {
	if root == nil {
		tf.insertAfter(len(tf.lines), append([]string{"sandboxes:"}, sandboxLines(sb, 2, 4)...)...)
		return nil
	}
	if !isBlock(root) {
		return errNeedNodeEdit
	}
	key, val := mapLookup(root, "sandboxes")
	switch {
	case key == nil:
		tf.insertAfter(len(tf.lines), append([]string{"sandboxes:"}, sandboxLines(sb, 2, 4)...)...)
		return nil
	case val.Kind == yaml.SequenceNode && len(val.Content) > 0 && isBlock(val):
		last := profiles.ResolveNode(val.Content[len(val.Content)-1])
		dash := val.Column - 1
		keyIndent := dash + 2
		if last.Kind == yaml.MappingNode {
			keyIndent = last.Column - 1
		}
		tf.insertAfter(tf.blockEnd(last.Line, dash), sandboxLines(sb, dash, keyIndent)...)
		return nil
	case tf.clearEmptyValue(key, val):
		ki := key.Column - 1
		tf.insertAfter(tf.blockEnd(key.Line, ki), sandboxLines(sb, ki+2, ki+4)...)
		return nil
	}
	return errNeedNodeEdit
}

func spliceRemoveSandbox(tf *textFile, root *yaml.Node, id string) error {
	if !isBlock(root) {
		return errNeedNodeEdit
	}
	_, val := mapLookup(root, "sandboxes")
	if val.Kind != yaml.SequenceNode || !isBlock(val) {
		return errNeedNodeEdit
	}
	dashCol := val.Column
	for i, it := range val.Content {
		it = profiles.ResolveNode(it)
		if _, v := mapLookup(it, "id"); v == nil || v.Value != id {
			continue
		}
		lowest := val.Line
		if i > 0 {
			lowest = profiles.ResolveNode(val.Content[i-1]).Line + 1
		}
		first := -1
		for l := it.Line; l >= lowest; l-- {
			t := tf.text(l)
			if indentOf(t) == dashCol-1 && strings.HasPrefix(t[dashCol-1:], "-") {
				first = l
				break
			}
		}
		if first < 0 {
			return errNeedNodeEdit
		}
		tf.deleteLines(first, tf.blockEnd(it.Line, dashCol-1))
		return nil
	}
	return errNeedNodeEdit
}

// githubScalars lists the scalar fields of u in the order km writes them.
func githubScalars(u GitHubUpdate) [][2]string {
	var out [][2]string
	if u.AppClientID != nil {
		out = append(out, [2]string{"appClientId", yamlScalar(*u.AppClientID)})
	}
	if u.AppID != nil {
		out = append(out, [2]string{"appId", itoa(*u.AppID)})
	}
	if u.PrivateKeyFile != nil {
		out = append(out, [2]string{"privateKeyFile", yamlScalar(*u.PrivateKeyFile)})
	}
	return out
}

// githubLines renders a whole github section body at indent.
func githubLines(u GitHubUpdate, indent int) []string {
	var out []string
	for _, kv := range githubScalars(u) {
		out = append(out, spaces(indent)+kv[0]+": "+kv[1])
	}
	if len(u.Installations) > 0 {
		out = append(out, spaces(indent)+"installations:")
		out = append(out, installationLines(u.Installations, sortedAccounts(u.Installations), indent+2)...)
	}
	return out
}

func installationLines(m map[string]int64, accts []string, indent int) []string {
	out := make([]string, 0, len(accts))
	for _, a := range accts {
		out = append(out, spaces(indent)+yamlScalar(a)+": "+itoa(m[a]))
	}
	return out
}

func spliceSetGitHub(tf *textFile, root *yaml.Node, u GitHubUpdate) error {
	if root == nil {
		tf.insertAfter(len(tf.lines), append([]string{"github:"}, githubLines(u, 2)...)...)
		return nil
	}
	if !isBlock(root) {
		return errNeedNodeEdit
	}
	key, gh := mapLookup(root, "github")
	switch {
	case key == nil:
		tf.insertAfter(len(tf.lines), append([]string{"github:"}, githubLines(u, 2)...)...)
		return nil
	case gh.Kind == yaml.MappingNode && len(gh.Content) > 0 && isBlock(gh):
	case tf.clearEmptyValue(key, gh):
		tf.insertAfter(tf.blockEnd(key.Line, key.Column-1), githubLines(u, key.Column-1+2)...)
		return nil
	default:
		return errNeedNodeEdit
	}

	indent := gh.Column - 1
	var added []string
	for _, kv := range githubScalars(u) {
		k, v := mapLookup(gh, kv[0])
		if k == nil {
			added = append(added, spaces(indent)+kv[0]+": "+kv[1])
			continue
		}
		if err := tf.setValue(k, v, kv[1]); err != nil {
			return err
		}
	}
	if len(u.Installations) > 0 {
		k, inst := mapLookup(gh, "installations")
		switch {
		case k == nil:
			added = append(added, spaces(indent)+"installations:")
			added = append(added, installationLines(u.Installations, sortedAccounts(u.Installations), indent+2)...)
		case inst.Kind == yaml.MappingNode && len(inst.Content) > 0 && isBlock(inst):
			var missing []string
			for _, acct := range sortedAccounts(u.Installations) {
				ik, iv := mapLookupFold(inst, acct)
				if ik == nil {
					missing = append(missing, acct)
					continue
				}
				if err := tf.setValue(ik, iv, itoa(u.Installations[acct])); err != nil {
					return err
				}
			}
			if len(missing) > 0 {
				tf.insertAfter(tf.blockEnd(k.Line, k.Column-1), installationLines(u.Installations, missing, inst.Column-1)...)
			}
		case tf.clearEmptyValue(k, inst):
			tf.insertAfter(tf.blockEnd(k.Line, k.Column-1), installationLines(u.Installations, sortedAccounts(u.Installations), k.Column-1+2)...)
		default:
			return errNeedNodeEdit
		}
	}
	if len(added) > 0 {
		tf.insertAfter(tf.blockEnd(key.Line, key.Column-1), added...)
	}
	return nil
}

// setValue replaces the scalar value of key k; an empty value (key:) gets text
// after its colon.
func (tf *textFile) setValue(k, v *yaml.Node, text string) error {
	if v.Kind == yaml.ScalarNode && profiles.IsNullNode(v) && v.Value == "" {
		_, kend, err := tf.scalarSpan(k)
		if err != nil {
			return err
		}
		line := tf.text(k.Line)
		colon := strings.IndexByte(line[kend:], ':')
		if colon < 0 {
			return errNeedNodeEdit
		}
		at := kend + colon + 1
		tf.replace(k.Line, at, at, " "+text)
		return nil
	}
	if v.Line != k.Line {
		return errNeedNodeEdit
	}
	return tf.replaceScalar(v, text)
}

func mapLookupFold(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if strings.EqualFold(m.Content[i].Value, key) {
			return m.Content[i], profiles.ResolveNode(m.Content[i+1])
		}
	}
	return nil, nil
}
