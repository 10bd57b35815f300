package reconcile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// normalizeJSON re-indents a JSON document with sorted keys so that documents AWS
// reformats compare equal and diff line by line.
func normalizeJSON(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return "", fmt.Errorf("not a JSON document")
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimRight(buf.String(), "\n"), nil
}

// mustJSON renders v as normalised, indented JSON.
func mustJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only plain data is passed
	}
	out, err := normalizeJSON(buf.String())
	if err != nil {
		panic(err)
	}
	return out
}

// NormalizeJSONOr returns the normalised JSON or s itself.
func NormalizeJSONOr(s string) string {
	if n, err := normalizeJSON(s); err == nil {
		return n
	}
	return s
}
