package kmyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/klankermaker/km/internal/atomicfile"
	"github.com/klankermaker/km/profiles"
)

// ErrSandboxNotFound is wrapped by RemoveSandbox when km.yaml declares no sandbox with the id.
var ErrSandboxNotFound = errors.New("sandbox not declared in km.yaml")

// GitHubUpdate is what SetGitHub writes into km.yaml's github section; nil fields
// are left as they are.
type GitHubUpdate struct {
	AppClientID    *string
	AppID          *int64
	PrivateKeyFile *string
	// Installations sets (or adds) account -> installation id; an account already
	// listed (compared case-insensitively) keeps its spelling and gets the new id.
	Installations map[string]int64
}

// edit describes one change to km.yaml, expressed three ways: as a text splice
// (preferred: every byte outside the entry stays as it was), as a yaml.v3 node
// edit (fallback for flow style and other layouts a splice cannot handle), and
// as its effect on the decoded document (to verify whichever was used).
type edit struct {
	check  func(root *yaml.Node) error // user errors, before anything changes
	splice func(tf *textFile, root *yaml.Node) error
	nodes  func(doc *yaml.Node) error
	expect func(m map[string]any)
}

// AddSandbox appends sb to km.yaml's sandboxes list (creating the key if absent),
// keeping comments and layout. It checks the entry itself (id format, a duplicate
// id, principal) but not that the profile exists: Load the result, and restore the
// returned original bytes (with atomicfile.Write) if that or what follows fails.
func AddSandbox(path string, sb profiles.Sandbox) (original []byte, err error) {
	if err := profiles.CheckProfileName(sb.Profile); err != nil {
		return nil, fmt.Errorf("adding sandbox %s to %s: %w", sb.ID, path, err)
	}
	if sb.Principal == "" {
		return nil, fmt.Errorf("adding sandbox %s to %s: the sandbox has no principal; expected the ARN of the IAM role or user that alone may read its token (km create --principal arn:aws:iam::ACCOUNT:role/NAME)", sb.ID, path)
	}
	if err := profiles.CheckPrincipal(sb.Principal); err != nil {
		return nil, fmt.Errorf("adding sandbox %s to %s: %w", sb.ID, path, err)
	}
	e := edit{
		check: func(root *yaml.Node) error {
			prefix := profiles.DefaultPrefix
			if _, v := mapLookup(root, "prefix"); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
				prefix = v.Value
			}
			if err := profiles.CheckSandboxID(sb.ID, prefix); err != nil {
				return err
			}
			items, err := sandboxItems(root)
			if err != nil {
				return err
			}
			for _, it := range items {
				if _, v := mapLookup(it, "id"); v != nil && v.Value == sb.ID {
					return fmt.Errorf("sandbox %s is already declared at line %d; choose another id", sb.ID, it.Line)
				}
			}
			return nil
		},
		splice: func(tf *textFile, root *yaml.Node) error { return spliceAddSandbox(tf, root, sb) },
		nodes:  func(doc *yaml.Node) error { return nodesAddSandbox(doc, sb) },
		expect: func(m map[string]any) {
			entry := map[string]any{"id": sb.ID, "profile": sb.Profile}
			if sb.Principal != "" {
				entry["principal"] = sb.Principal
			}
			list, _ := m["sandboxes"].([]any)
			m["sandboxes"] = append(list, entry)
		},
	}
	return editFile(path, false, e)
}

// RemoveSandbox removes the sandbox with id from km.yaml, keeping everything else
// byte for byte where a text splice can express it. It wraps ErrSandboxNotFound
// when no such sandbox is declared.
func RemoveSandbox(path, id string) (original []byte, err error) {
	e := edit{
		check: func(root *yaml.Node) error {
			items, err := sandboxItems(root)
			if err != nil {
				return err
			}
			var ids []string
			for _, it := range items {
				if _, v := mapLookup(it, "id"); v != nil {
					if v.Value == id {
						return nil
					}
					ids = append(ids, v.Value)
				}
			}
			return fmt.Errorf("%w: no sandbox with id %s (declared: %s)%s", ErrSandboxNotFound, profiles.ShowValue(id), strings.Join(ids, ", "), profiles.DidYouMean(id, ids))
		},
		splice: func(tf *textFile, root *yaml.Node) error { return spliceRemoveSandbox(tf, root, id) },
		nodes:  func(doc *yaml.Node) error { return nodesRemoveSandbox(doc, id) },
		expect: func(m map[string]any) {
			list, _ := m["sandboxes"].([]any)
			var kept []any
			for _, it := range list {
				if e, ok := it.(map[string]any); ok && e["id"] == id {
					continue
				}
				kept = append(kept, it)
			}
			m["sandboxes"] = kept
		},
	}
	return editFile(path, false, e)
}

// SetGitHub writes u into km.yaml's github section, creating the section (and the
// file, when it does not exist: original is then nil) as needed.
func SetGitHub(path string, u GitHubUpdate) (original []byte, err error) {
	if err := u.validate(); err != nil {
		return nil, fmt.Errorf("updating github in %s: %w", path, err)
	}
	e := edit{
		check: func(root *yaml.Node) error {
			_, gh := mapLookup(root, "github")
			if gh == nil || profiles.IsNullNode(gh) {
				return nil
			}
			if gh.Kind != yaml.MappingNode {
				return fmt.Errorf("github: found %s at line %d; expected a mapping", profiles.DescribeNode(gh), gh.Line)
			}
			if _, inst := mapLookup(gh, "installations"); inst != nil && !profiles.IsNullNode(inst) && inst.Kind != yaml.MappingNode {
				return fmt.Errorf("github.installations: found %s at line %d; expected a mapping of account to installation id", profiles.DescribeNode(inst), inst.Line)
			}
			return nil
		},
		splice: func(tf *textFile, root *yaml.Node) error { return spliceSetGitHub(tf, root, u) },
		nodes:  func(doc *yaml.Node) error { return nodesSetGitHub(doc, u) },
		expect: func(m map[string]any) {
			gh, _ := m["github"].(map[string]any)
			if gh == nil {
				gh = map[string]any{}
			}
			if u.AppClientID != nil {
				gh["appClientId"] = *u.AppClientID
			}
			if u.AppID != nil {
				gh["appId"] = int(*u.AppID)
			}
			if u.PrivateKeyFile != nil {
				gh["privateKeyFile"] = *u.PrivateKeyFile
			}
			if len(u.Installations) > 0 {
				inst, _ := gh["installations"].(map[string]any)
				if inst == nil {
					inst = map[string]any{}
				}
				for acct, id := range u.Installations {
					key := acct
					for k := range inst {
						if strings.EqualFold(k, acct) {
							key = k
						}
					}
					inst[key] = int(id)
				}
				gh["installations"] = inst
			}
			m["github"] = gh
		},
	}
	return editFile(path, true, e)
}

func (u GitHubUpdate) validate() error {
	if u.AppClientID != nil {
		s := *u.AppClientID
		if s == "" || strings.ContainsAny(s, " \t\r\n") || profiles.LooksSecret(s) {
			return fmt.Errorf("app client id %s is malformed; expected the App's client ID, like Iv1.abc123", profiles.ShowValue(s))
		}
	}
	if u.AppID != nil && *u.AppID <= 0 {
		return fmt.Errorf("app id %d: expected a positive integer", *u.AppID)
	}
	if u.PrivateKeyFile != nil {
		s := *u.PrivateKeyFile
		if s == "" || strings.ContainsAny(s, "\r\n") || profiles.LooksSecret(s) {
			return errors.New("private key file: expected the path of the App's .pem file, not empty and not the key itself")
		}
	}
	for acct, id := range u.Installations {
		if err := profiles.CheckLogin(acct); err != nil {
			return fmt.Errorf("installation account %w", err)
		}
		if id <= 0 {
			return fmt.Errorf("installation id %d for %s: expected a positive integer", id, acct)
		}
	}
	return nil
}

// editFile applies e to the file at path and writes the result atomically.
func editFile(path string, create bool, e edit) ([]byte, error) {
	orig, perm, err := readForEdit(path, create)
	if err != nil {
		return nil, err
	}
	doc, err := parseForEdit(path, orig)
	if err != nil {
		return nil, err
	}
	root := rootOf(doc)
	if root != nil && root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: found %s at the top; expected a mapping (region, prefix, github, ...)", path, profiles.DescribeNode(root))
	}
	if err := e.check(root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	want, wantOK := decodeGeneric(orig)
	if wantOK {
		e.expect(want)
	}
	verify := func(out []byte) bool {
		got, ok := decodeGeneric(out)
		if !ok {
			return false
		}
		return !wantOK || reflect.DeepEqual(normalizeGeneric(got), normalizeGeneric(want))
	}

	var out []byte
	tf := newTextFile(orig)
	switch err := e.splice(tf, root); {
	case err == nil:
		if b := tf.render(); verify(b) {
			out = b
		}
	case !errors.Is(err, errNeedNodeEdit):
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if out == nil {
		doc, _ := parseForEdit(path, orig)
		if err := e.nodes(doc); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		b, err := encodeDoc(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: re-encoding: %w", path, err)
		}
		if !verify(b) {
			return nil, fmt.Errorf("%s: the edited file does not read back as intended; the file was left unchanged, edit it by hand", path)
		}
		out = b
	}
	if err := atomicfile.Write(path, out, perm); err != nil {
		return nil, err
	}
	return orig, nil
}

func readForEdit(path string, create bool) ([]byte, os.FileMode, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return nil, 0o644, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the km config %s: %w", path, err)
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	return data, perm, nil
}

// parseForEdit parses km.yaml into its document node (an empty document for an
// empty file), refusing files with several documents.
func parseForEdit(path string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first *yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not valid YAML (%v); fix it (km validate) before km edits it", path, err)
		}
		if first != nil {
			return nil, fmt.Errorf("%s holds more than one YAML document; expected one", path)
		}
		first = &n
	}
	if first == nil {
		first = &yaml.Node{Kind: yaml.DocumentNode}
	}
	return first, nil
}

func rootOf(doc *yaml.Node) *yaml.Node {
	if doc == nil || len(doc.Content) == 0 {
		return nil
	}
	return profiles.ResolveNode(doc.Content[0])
}

// mapLookup returns the key and (alias-resolved) value nodes for key in mapping m.
func mapLookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], profiles.ResolveNode(m.Content[i+1])
		}
	}
	return nil, nil
}

// sandboxItems returns the entries of the sandboxes list.
func sandboxItems(root *yaml.Node) ([]*yaml.Node, error) {
	_, v := mapLookup(root, "sandboxes")
	if v == nil || profiles.IsNullNode(v) {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("sandboxes: found %s at line %d; expected a list", profiles.DescribeNode(v), v.Line)
	}
	out := make([]*yaml.Node, len(v.Content))
	for i, it := range v.Content {
		out[i] = profiles.ResolveNode(it)
	}
	return out, nil
}

func decodeGeneric(data []byte) (map[string]any, bool) {
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, false
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, true
}

// normalizeGeneric makes empty and missing lists compare equal ([]any(nil) vs
// []any{} vs nil after removing the last sandbox).
func normalizeGeneric(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if l, ok := v.([]any); ok && len(l) == 0 {
			v = nil
		}
		out[k] = v
	}
	return out
}

func sortedAccounts(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
