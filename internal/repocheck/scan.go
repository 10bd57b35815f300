package repocheck

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Finding is one piece of key-looking text in a file.
type Finding struct {
	File string
	Line int
	Kind string
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Kind) }

// AllowList is the [allowlist] table of .gitleaks.toml: path and value patterns.
type AllowList struct {
	Paths   []*regexp.Regexp
	Regexes []*regexp.Regexp
}

// PathAllowed reports whether a repository path is allow-listed.
func (a AllowList) PathAllowed(path string) bool {
	for _, re := range a.Paths {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

func (a AllowList) valueAllowed(v string) bool {
	for _, re := range a.Regexes {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

// ParseAllowList reads the paths and regexes arrays of the [allowlist] table of a
// gitleaks config. Only the subset of TOML the file uses is understood (arrays of
// triple-quoted literal strings, # comments); anything else inside those arrays is an
// error naming the line.
func ParseAllowList(name string, data []byte) (AllowList, error) {
	var a AllowList
	var table, array string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if array != "" {
			if line == "]" {
				array = ""
				continue
			}
			s, ok := strings.CutPrefix(line, "'''")
			if ok {
				s, _, ok = strings.Cut(s, "'''")
			}
			if !ok {
				return a, fmt.Errorf("%s:%d: expected a '''literal''' string or ] in %s", name, n, array)
			}
			re, err := regexp.Compile(s)
			if err != nil {
				return a, fmt.Errorf("%s:%d: %s entry is not a regular expression: %w", name, n, array, err)
			}
			if array == "paths" {
				a.Paths = append(a.Paths, re)
			} else {
				a.Regexes = append(a.Regexes, re)
			}
			continue
		}
		if strings.HasPrefix(line, "[") {
			table = strings.Trim(line, "[] ")
			continue
		}
		if table == "allowlist" {
			key, rest, _ := strings.Cut(line, "=")
			key = strings.TrimSpace(key)
			if (key == "paths" || key == "regexes") && strings.TrimSpace(rest) == "[" {
				array = key
			}
		}
	}
	if array != "" {
		return a, fmt.Errorf("%s: the %s array is not closed; expected ]", name, array)
	}
	return a, sc.Err()
}

var (
	pemHeader = regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY( BLOCK)?-----`)
	ghToken   = regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}`)
	awsKeyID  = regexp.MustCompile(`\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`)
	// pemFiller is what may sit between base64 characters of a PEM body written
	// inside source: whitespace, \n escapes, quotes and string concatenation.
	pemFiller = regexp.MustCompile(`^(?:\s|\\[nr]|["'` + "`" + `+])+`)
)

// minKeyBody is how many base64 characters after a PEM private-key header make
// it key material rather than a stub like "MIIEsecret" in a redaction test
// (gitleaks' private-key rule uses the same bound).
const minKeyBody = 64

// Scan returns the key-looking text in one file's content, skipping values the
// allow-list names. Binary content (a NUL byte) is not scanned.
func Scan(file string, data []byte, allow AllowList) []Finding {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil
	}
	var out []Finding
	text := string(data)
	lineOf := func(off int) int { return 1 + strings.Count(text[:off], "\n") }
	for _, loc := range pemHeader.FindAllStringIndex(text, -1) {
		if body := pemBody(text[loc[1]:]); body >= minKeyBody && !allow.valueAllowed(text[loc[0]:min(len(text), loc[1]+200)]) {
			out = append(out, Finding{file, lineOf(loc[0]), fmt.Sprintf("PEM private key (%d+ base64 characters)", body)})
		}
	}
	for _, m := range []struct {
		re   *regexp.Regexp
		kind string
	}{{ghToken, "GitHub token"}, {awsKeyID, "AWS access key id"}} {
		for _, loc := range m.re.FindAllStringIndex(text, -1) {
			v := text[loc[0]:loc[1]]
			if !allow.valueAllowed(v) {
				out = append(out, Finding{file, lineOf(loc[0]), fmt.Sprintf("%s %s…", m.kind, v[:6])})
			}
		}
	}
	return out
}

// pemBody counts the base64 characters at the start of s (up to minKeyBody),
// skipping the filler source code puts between lines.
func pemBody(s string) int {
	n := 0
	for n < minKeyBody && s != "" {
		if f := pemFiller.FindString(s); f != "" {
			s = s[len(f):]
			continue
		}
		c := s[0]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			break
		}
		n++
		s = s[1:]
	}
	return n
}
