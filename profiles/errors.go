package profiles

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in the declaration, at a position in a file.
type Error struct {
	Pos Pos
	Msg string
	Err error // optional sentinel the problem is an instance of (errors.Is)
}

// Unwrap returns the sentinel, if any.
func (e *Error) Unwrap() error { return e.Err }

// Error formats the problem as FILE:LINE:COL: message.
func (e *Error) Error() string {
	if e.Pos.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.Pos.File, e.Msg)
	}
	col := e.Pos.Col
	if col <= 0 {
		col = 1
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.File, e.Pos.Line, col, e.Msg)
}

// Errors is every problem Load found, ordered by file (km.yaml first) and position.
type Errors struct {
	List []*Error
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.Is and errors.As.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.List))
	for i, x := range e.List {
		out[i] = x
	}
	return out
}

// collector gathers problems while loading; it remembers the order in which files
// were first seen so that the report lists km.yaml before the profiles.
type collector struct {
	list  []*Error
	files map[string]int
}

func newCollector() *collector { return &collector{files: map[string]int{}} }

func (c *collector) seeFile(name string) {
	if _, ok := c.files[name]; !ok {
		c.files[name] = len(c.files)
	}
}

func (c *collector) addf(pos Pos, format string, args ...any) {
	c.seeFile(pos.File)
	c.list = append(c.list, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) add(e *Error) {
	c.seeFile(e.Pos.File)
	c.list = append(c.list, e)
}

// err returns the collected problems sorted, or nil.
func (c *collector) err() error {
	if len(c.list) == 0 {
		return nil
	}
	list := append([]*Error(nil), c.list...)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].Pos, list[j].Pos
		if a.File != b.File {
			return c.files[a.File] < c.files[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &Errors{List: list}
}

// AsErrors returns the *Errors inside err, if any.
func AsErrors(err error) (*Errors, bool) {
	var e *Errors
	ok := errors.As(err, &e)
	return e, ok
}

// suggest returns the candidate closest to got (case-insensitive equality first,
// then edit distance), or "" when nothing is close enough to be a likely typo.
func suggest(got string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, got) {
			return c
		}
	}
	best, bestD := "", -1
	lg := strings.ToLower(got)
	for _, c := range candidates {
		d := editDistance(lg, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(2, len(got)/3)
	if bestD >= 0 && bestD <= limit {
		return best
	}
	return ""
}

// didYouMean renders a suggestion suffix, or "" when there is none.
func DidYouMean(got string, candidates []string) string {
	if s := suggest(got, candidates); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// secretMarkers are substrings that identify key material or GitHub tokens.
var secretMarkers = []string{"-----BEGIN", "PRIVATE KEY", "ghs_", "ghp_", "gho_", "ghu_", "ghr_", "github_pat_"}

// looksSecret reports whether a user-supplied value looks like key material or a token.
func LooksSecret(s string) bool {
	for _, m := range secretMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// show quotes a user-supplied value for a message: shortened, and never echoing
// anything that looks like a secret.
func ShowValue(s string) string {
	if LooksSecret(s) {
		return "(a value that looks like a key or token, not shown)"
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + "…"
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
