package views

import (
	"strings"
	"unicode/utf8"

	"github.com/klankermaker/km/internal/githubapp"
)

// Comment part sizes. GitHub refuses a comment body longer than
// githubapp.MaxCommentRunes characters; githubapp.MarkerHeadroom is kept free
// for the hidden marker line UpsertStickyComment puts on top of every part.
const (
	DefaultPartRunes = githubapp.MaxCommentRunes - githubapp.MarkerHeadroom
	// MinPartRunes is the smallest part size SplitComment honours; a smaller
	// max is raised to it (the re-opened <details> and fences need room).
	MinPartRunes = 1024

	maxSummaryRunes = 80
	maxFenceRunes   = 64
)

// SplitComment splits a Markdown body into parts of at most maxRunes characters
// (runes, as GitHub counts), cutting only between lines. A part that ends
// inside a code fence or a <details> block closes them, and the next part
// reopens them: the fence with the same info string, the block as
// <details><summary>SUMMARY (continued)</summary>. A line longer than a
// part is hard-wrapped. The first part starts with the body's first lines,
// so a summary on top stays whole. A body that fits is returned as is.
func SplitComment(body string, maxRunes int) []string {
	if maxRunes < MinPartRunes {
		maxRunes = MinPartRunes
	}
	if utf8.RuneCountInString(body) <= maxRunes {
		return []string{body}
	}
	s := &splitter{max: maxRunes}
	for _, line := range strings.Split(body, "\n") {
		s.add(line, s.state.after(line))
	}
	s.parts = append(s.parts, strings.Join(s.cur, "\n"))
	return s.parts
}

type splitter struct {
	max        int
	parts      []string
	cur        []string // lines of the part being built
	curRunes   int      // runes of strings.Join(cur, "\n")
	hasContent bool     // cur holds more than the reopening lines
	state      mdState  // open fence and <details> after the lines so far
}

func (s *splitter) sep() int {
	if len(s.cur) == 0 {
		return 0
	}
	return 1
}

func (s *splitter) push(line string) {
	s.curRunes += s.sep() + utf8.RuneCountInString(line)
	s.cur = append(s.cur, line)
}

// add appends line, whose full effect on the state is next.
func (s *splitter) add(line string, next mdState) {
	for {
		if s.curRunes+s.sep()+utf8.RuneCountInString(line)+next.closersLen() <= s.max {
			s.push(line)
			s.hasContent = true
			s.state = next
			return
		}
		if s.hasContent {
			s.flush()
			continue
		}
		// A fresh part and the line still does not fit: hard-wrap it.
		avail := s.max - s.curRunes - s.sep() - max(s.state.closersLen(), next.closersLen())
		chunk, rest := splitRunes(line, max(avail, 1))
		if rest == "" {
			s.push(chunk)
			s.hasContent = true
			s.state = next
			return
		}
		s.push(chunk)
		s.hasContent = true
		s.flush()
		line = rest
	}
}

// flush ends the current part with the closers of the open blocks and starts
// the next one with their reopeners.
func (s *splitter) flush() {
	for _, c := range s.state.closers() {
		s.push(c)
	}
	s.parts = append(s.parts, strings.Join(s.cur, "\n"))
	s.cur, s.curRunes, s.hasContent = nil, 0, false
	for _, r := range s.state.reopeners() {
		s.push(r)
	}
}

func splitRunes(s string, n int) (string, string) {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos], s[pos:]
		}
		i++
	}
	return s, ""
}

// mdState is what is open after some lines of Markdown.
type mdState struct {
	details []string // summaries of the open <details>, outermost first
	fence   *mdFence // the open code fence, if any (always innermost)
}

type mdFence struct {
	char byte
	n    int
	open string // the opening line, indentation removed
}

func (st mdState) closers() []string {
	var out []string
	if st.fence != nil {
		out = append(out, strings.Repeat(string(st.fence.char), st.fence.n))
	}
	for range st.details {
		out = append(out, "</details>")
	}
	return out
}

func (st mdState) closersLen() int {
	n := 0
	if st.fence != nil {
		n += 1 + st.fence.n
	}
	return n + len(st.details)*(1+len("</details>"))
}

func (st mdState) reopeners() []string {
	var out []string
	for _, summary := range st.details {
		if summary == "" {
			out = append(out, "<details><summary>(continued)</summary>", "")
			continue
		}
		out = append(out, "<details><summary>"+truncateRunes(summary, maxSummaryRunes)+" (continued)</summary>", "")
	}
	if st.fence != nil {
		out = append(out, truncateRunes(st.fence.open, maxFenceRunes))
	}
	return out
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	head, _ := splitRunes(s, n-1)
	return head + "…"
}

// after returns the state after line. It never modifies st.
func (st mdState) after(line string) mdState {
	trimmed, ok := trimIndent(line)
	if st.fence != nil {
		if ok && isClosingFence(trimmed, st.fence) {
			return mdState{details: st.details}
		}
		return st
	}
	if ok {
		if f := openingFence(trimmed); f != nil {
			return mdState{details: st.details, fence: f}
		}
	}
	if !strings.Contains(line, "<") {
		return st
	}
	return mdState{details: scanDetails(line, st.details)}
}

// trimIndent removes up to three spaces; a line indented more cannot open
// or close a fence.
func trimIndent(line string) (string, bool) {
	t := strings.TrimLeft(line, " ")
	return t, len(line)-len(t) <= 3
}

func openingFence(t string) *mdFence {
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return nil
	}
	c := t[0]
	n := 0
	for n < len(t) && t[n] == c {
		n++
	}
	if n < 3 || (c == '`' && strings.Contains(t[n:], "`")) {
		return nil
	}
	return &mdFence{char: c, n: n, open: t}
}

func isClosingFence(t string, f *mdFence) bool {
	n := 0
	for n < len(t) && t[n] == f.char {
		n++
	}
	return n >= f.n && strings.TrimSpace(t[n:]) == ""
}

// scanDetails applies the <details>, <summary> and </details> tags of line,
// in order, to the stack of open blocks.
func scanDetails(line string, open []string) []string {
	stack := append([]string(nil), open...)
	lower := asciiLower(line)
	for i := 0; i < len(lower); {
		j := strings.IndexByte(lower[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := lower[i:]
		switch {
		case strings.HasPrefix(rest, "</details>"):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i += len("</details>")
		case strings.HasPrefix(rest, "<details") && len(rest) > 8 && (rest[8] == '>' || rest[8] == ' '):
			stack = append(stack, "")
			i += len("<details")
		case strings.HasPrefix(rest, "<summary>"):
			start := i + len("<summary>")
			end := strings.Index(lower[start:], "</summary>")
			if end < 0 {
				i = start
				continue
			}
			if len(stack) > 0 && stack[len(stack)-1] == "" {
				stack[len(stack)-1] = strings.TrimSpace(line[start : start+end])
			}
			i = start + end + len("</summary>")
		default:
			i++
		}
	}
	return stack
}

// asciiLower lowercases ASCII letters only, keeping byte offsets.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
