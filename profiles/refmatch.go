package profiles

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MatchRef reports whether ref matches pattern as bash's [[ $ref == $pattern ]]
// does (fnmatch without FNM_PATHNAME): * matches any string including /, ? one
// character, [...] a class (with [!...] or [^...] negation, ranges and [:name:]
// classes), and a backslash makes the next character literal. A [ without a
// closing ] is a literal [, as in bash; ValidateRefPattern rejects such patterns.
func MatchRef(pattern, ref string) bool {
	toks, _ := compileRef(pattern, false)
	return matchTokens(toks, []rune(ref))
}

// RefAllowed reports whether ref matches one of patterns; an empty list allows every ref.
func RefAllowed(patterns []string, ref string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if MatchRef(p, ref) {
			return true
		}
	}
	return false
}

// PushRefAllowed is the one rule for a pushed ref, shared by the pre-push hook
// and km proxy. fullRef is the full remote ref (refs/heads/dev, refs/tags/v1).
//
//   - No patterns: every ref is allowed.
//   - A branch (refs/heads/NAME) is allowed when NAME matches a pattern that does
//     not start with refs/, or the full ref matches a pattern that does.
//   - A tag (refs/tags/NAME) is allowed only by a pattern starting with
//     refs/tags/, matched against the full ref: allowedRefs [main] does not allow
//     the tag main, [refs/tags/v*] allows refs/tags/v1.
//   - Any other ref (refs/notes/..., HEAD, ...) is allowed only by a pattern
//     starting with refs/ (but not refs/tags/) that matches the full ref.
//
// Patterns keep bash semantics (see MatchRef): * also matches /.
func PushRefAllowed(patterns []string, fullRef string) bool {
	if len(patterns) == 0 {
		return true
	}
	const heads, tags = "refs/heads/", "refs/tags/"
	for _, p := range patterns {
		full := strings.HasPrefix(p, "refs/")
		switch {
		case strings.HasPrefix(fullRef, tags):
			if strings.HasPrefix(p, tags) && MatchRef(p, fullRef) {
				return true
			}
		case strings.HasPrefix(fullRef, heads):
			if full && MatchRef(p, fullRef) || !full && MatchRef(p, strings.TrimPrefix(fullRef, heads)) {
				return true
			}
		default:
			if full && !strings.HasPrefix(p, tags) && MatchRef(p, fullRef) {
				return true
			}
		}
	}
	return false
}

// RefDisplayName is how a denial names a ref: a branch by its short name (dev),
// anything else by its full name (refs/tags/main), so a tag is never shown as
// if it were the branch of the same name.
func RefDisplayName(fullRef string) string {
	if n, ok := strings.CutPrefix(fullRef, "refs/heads/"); ok && n != "" {
		return n
	}
	return fullRef
}

// ValidateRefPattern reports what is wrong with an allowedRefs pattern: empty,
// whitespace or control characters, an unbalanced [, a reversed range, an unknown
// [:class:], a trailing lone backslash, or bash extended-glob syntax.
func ValidateRefPattern(p string) error {
	if p == "" {
		return errors.New("a ref pattern is empty; expected a branch name or a pattern like release/*")
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("ref pattern %s is not valid UTF-8", ShowValue(p))
	}
	for _, r := range p {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("ref pattern %s contains whitespace or a control character, which git ref names cannot contain", ShowValue(p))
		}
	}
	for i := 0; i+1 < len(p); i++ {
		if strings.IndexByte("?*+@!", p[i]) >= 0 && p[i+1] == '(' && (i == 0 || (p[i-1] != '\\' && p[i-1] != '[')) {
			return fmt.Errorf("ref pattern %s uses extended-glob syntax %s(...), which is not supported; expected *, ? and [...] only", ShowValue(p), string(p[i]))
		}
	}
	if _, err := compileRef(p, true); err != nil {
		return fmt.Errorf("ref pattern %s: %w", ShowValue(p), err)
	}
	return nil
}

type refTokKind uint8

const (
	refLit refTokKind = iota
	refAny
	refStar
	refClass
)

type refToken struct {
	kind refTokKind
	r    rune
	cls  *refClassSet
}

type refClassSet struct {
	neg   bool
	items []refClassItem
}

type refClassItem struct {
	lo, hi rune
	named  func(rune) bool
}

func (c *refClassSet) has(r rune) bool {
	in := false
	for _, it := range c.items {
		if it.named != nil {
			if it.named(r) {
				in = true
				break
			}
			continue
		}
		if it.lo <= r && r <= it.hi {
			in = true
			break
		}
	}
	return in != c.neg
}

func (t refToken) matches(r rune) bool {
	switch t.kind {
	case refAny:
		return true
	case refLit:
		return t.r == r
	case refClass:
		return t.cls.has(r)
	}
	return false
}

// matchTokens is the classic single-backtrack glob matcher; it is linear in
// practice and never exponential because * matches every character.
func matchTokens(toks []refToken, s []rune) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for si < len(s) {
		if pi < len(toks) && toks[pi].kind == refStar {
			starPi, starSi = pi, si
			pi++
			continue
		}
		if pi < len(toks) && toks[pi].matches(s[si]) {
			pi++
			si++
			continue
		}
		if starPi >= 0 {
			starSi++
			si = starSi
			pi = starPi + 1
			continue
		}
		return false
	}
	for pi < len(toks) && toks[pi].kind == refStar {
		pi++
	}
	return pi == len(toks)
}

// compileRef turns a pattern into tokens. In strict mode, constructs bash would
// read leniently (unbalanced [, lone trailing \, reversed ranges, unknown classes)
// are errors.
func compileRef(p string, strict bool) ([]refToken, error) {
	rs := []rune(p)
	var toks []refToken
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			if len(toks) == 0 || toks[len(toks)-1].kind != refStar {
				toks = append(toks, refToken{kind: refStar})
			}
		case '?':
			toks = append(toks, refToken{kind: refAny})
		case '\\':
			if i+1 == len(rs) {
				if strict {
					return nil, errors.New("it ends with a lone backslash; expected a character after \\ (write \\\\ for a backslash)")
				}
				toks = append(toks, refToken{kind: refLit, r: '\\'})
				continue
			}
			i++
			toks = append(toks, refToken{kind: refLit, r: rs[i]})
		case '[':
			cls, next, err := parseRefClass(rs, i, strict)
			if err != nil {
				return nil, err
			}
			if cls == nil {
				if strict {
					return nil, fmt.Errorf("the [ at character %d has no closing ]; expected [...] or \\[ for a literal [", i+1)
				}
				toks = append(toks, refToken{kind: refLit, r: '['})
				continue
			}
			toks = append(toks, refToken{kind: refClass, cls: cls})
			i = next
		default:
			toks = append(toks, refToken{kind: refLit, r: c})
		}
	}
	return toks, nil
}

// parseRefClass parses the bracket expression starting at rs[start] == '['. It
// returns the class and the index of its closing ], or a nil class when the
// expression is not closed (the [ is then literal).
func parseRefClass(rs []rune, start int, strict bool) (*refClassSet, int, error) {
	i := start + 1
	cls := &refClassSet{}
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		cls.neg = true
		i++
	}
	first := true
	for i < len(rs) {
		c := rs[i]
		if c == ']' && !first {
			return cls, i, nil
		}
		first = false
		// [:name:], [=c=], [.c.]
		if c == '[' && i+1 < len(rs) && (rs[i+1] == ':' || rs[i+1] == '=' || rs[i+1] == '.') {
			delim := rs[i+1]
			if end := findClassTerm(rs, i+2, delim); end >= 0 {
				body := string(rs[i+2 : end])
				i = end + 2
				if delim == ':' {
					fn, ok := namedClasses[body]
					if !ok {
						if strict {
							return nil, 0, fmt.Errorf("unknown character class [:%s:]; expected one of alnum, alpha, blank, cntrl, digit, graph, lower, print, punct, space, upper, word, xdigit", body)
						}
						fn = func(rune) bool { return false }
					}
					cls.items = append(cls.items, refClassItem{named: fn})
					continue
				}
				br := []rune(body)
				if len(br) != 1 {
					if strict {
						return nil, 0, fmt.Errorf("[%c%s%c] names more than one character; expected a single character", delim, body, delim)
					}
					cls.items = append(cls.items, refClassItem{named: func(rune) bool { return false }})
					continue
				}
				if err := addRange(cls, rs, br[0], &i, strict); err != nil {
					return nil, 0, err
				}
				continue
			}
		}
		lo := c
		i++
		if c == '\\' {
			if i == len(rs) {
				return nil, 0, nil
			}
			lo = rs[i]
			i++
		}
		if err := addRange(cls, rs, lo, &i, strict); err != nil {
			return nil, 0, err
		}
	}
	return nil, 0, nil
}

// addRange adds lo, or lo-hi when a range follows at rs[*i].
func addRange(cls *refClassSet, rs []rune, lo rune, i *int, strict bool) error {
	j := *i
	if j+1 < len(rs) && rs[j] == '-' && rs[j+1] != ']' {
		hi := rs[j+1]
		j += 2
		if hi == '\\' && j < len(rs) {
			hi = rs[j]
			j++
		}
		*i = j
		if hi < lo {
			if strict {
				return fmt.Errorf("the range %c-%c is reversed; expected the lower character first, like %c-%c", lo, hi, hi, lo)
			}
			cls.items = append(cls.items, refClassItem{named: func(rune) bool { return false }})
			return nil
		}
		cls.items = append(cls.items, refClassItem{lo: lo, hi: hi})
		return nil
	}
	cls.items = append(cls.items, refClassItem{lo: lo, hi: lo})
	return nil
}

// findClassTerm finds delim followed by ] from rs[from], returning delim's index.
func findClassTerm(rs []rune, from int, delim rune) int {
	for k := from; k+1 < len(rs); k++ {
		if rs[k] == delim && rs[k+1] == ']' {
			return k
		}
		if rs[k] == ']' && delim == ':' {
			return -1
		}
	}
	return -1
}

var namedClasses = map[string]func(rune) bool{
	"alnum":  func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) },
	"alpha":  unicode.IsLetter,
	"blank":  func(r rune) bool { return r == ' ' || r == '\t' },
	"cntrl":  unicode.IsControl,
	"digit":  func(r rune) bool { return r >= '0' && r <= '9' },
	"graph":  func(r rune) bool { return unicode.IsGraphic(r) && !unicode.IsSpace(r) },
	"lower":  unicode.IsLower,
	"print":  unicode.IsPrint,
	"punct":  func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) },
	"space":  unicode.IsSpace,
	"upper":  unicode.IsUpper,
	"word":   func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) },
	"xdigit": func(r rune) bool { return strings.ContainsRune("0123456789abcdefABCDEF", r) },
}
