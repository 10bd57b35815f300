package profiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults for km.yaml.
const (
	DefaultPrefix      = "km"
	DefaultAPIURL      = "https://api.github.com"
	DefaultWebURL      = "https://github.com"
	DefaultProfilesDir = "profiles"
)

// DefaultRefresher is the refresher section when km.yaml leaves it out.
func DefaultRefresher() Refresher {
	return Refresher{
		Schedule:         "rate(45 minutes)",
		MemoryMB:         128,
		TimeoutSeconds:   60,
		LogRetentionDays: 30,
		Architecture:     "arm64",
	}
}

// loader holds what one Load needs besides the Config it fills.
type loader struct {
	c        *collector
	userPath string // km.yaml as the user gave it

	profilesDirSet bool
	profilesDirRaw string // as written in km.yaml (or the default)
	profilesDirPos Pos
	sbProfilePos   []Pos           // per sandbox: where its profile value is
	broken         map[string]bool // profiles with errors: skip cross-checks
	unparsable     bool            // a profile file is not valid YAML
	badAccounts    []string        // installations with errors: no "missing" report
	githubBroken   bool            // the github section has errors: no "not configured" report
	forSetup       bool            // LoadForSetup: no App or installation checks
}

// Load reads km.yaml at path and every SandboxProfile in its profilesDir, and
// validates them. On any problem it returns an *Errors listing all of them, each as
// FILE:LINE:COL: message. A missing or unreadable km.yaml is a plain error that
// wraps the os error. Environment overrides are not applied: see ApplyEnv.
func Load(path string) (*Config, error) { return load(path, false) }

// LoadForSetup is Load without the checks that km github and km configure
// github exist to fix: ErrGitHubNotConfigured (no App recorded) and sandbox
// owners without an installation. Everything else is checked as Load does.
// Without it the setup commands could not run on a km.yaml that already
// declares sandboxes, and the advice to run them would be a loop.
func LoadForSetup(path string) (*Config, error) { return load(path, true) }

func load(path string, forSetup bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the km config %s: %w; pass --config FILE or set KM_CONFIG", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolving the km config path %s: %w", path, err)
	}
	l := &loader{c: newCollector(), userPath: path, broken: map[string]bool{}, profilesDirRaw: DefaultProfilesDir, forSetup: forSetup}
	l.c.seeFile(path)
	cfg := &Config{
		File:        abs,
		Path:        path,
		Dir:         filepath.Dir(abs),
		Prefix:      DefaultPrefix,
		GitHub:      GitHub{APIURL: DefaultAPIURL, WebURL: DefaultWebURL},
		Refresher:   DefaultRefresher(),
		Safety:      Safety{MaxDestroyPercent: DefaultMaxDestroyPercent},
		ProfilesDir: filepath.Join(filepath.Dir(abs), DefaultProfilesDir),
		Profiles:    map[string]*Profile{},
	}
	l.profilesDirPos = Pos{File: path, Line: 1, Col: 1}

	d := &decoder{c: l.c, file: path}
	docs := l.parse(d, data)
	switch {
	case len(docs) > 1:
		d.errf(docs[1], "km.yaml holds more than one YAML document; expected exactly one (remove the second ---)")
	case len(docs) == 1:
		l.decodeConfig(d, docs[0], cfg)
	}
	l.loadProfiles(cfg)
	l.crossCheck(cfg)
	if err := l.c.err(); err != nil {
		return nil, err
	}
	cfg.Hash = cfg.hash(data)
	return cfg, nil
}

// display turns a path from inside km.yaml into one readable from where the
// user ran km: relative paths stay relative (to the working directory).
func (l *loader) display(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(l.userPath), p)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)
var yamlAnchorRe = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// yamlParserProblems are yaml.v3's parser (as opposed to scanner) messages.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// parse splits data into documents (document nodes' content), reporting YAML
// syntax errors at yaml's own line.
func (l *loader) parse(d *decoder, data []byte) []*yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			l.syntaxError(d, data, err)
			return nil
		}
		if len(n.Content) == 0 {
			continue
		}
		docs = append(docs, n.Content[0])
	}
}

func (l *loader) syntaxError(d *decoder, data []byte, err error) {
	msg := err.Error()
	pos := Pos{File: d.file, Line: 1, Col: 1}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if yamlParserProblems[msg] {
			// yaml.v3 reports parser (not scanner) errors with a 0-based line.
			pos.Line++
		}
	} else if m := yamlAnchorRe.FindStringSubmatch(msg); m != nil {
		for i, line := range strings.Split(string(data), "\n") {
			if c := strings.Index(line, "*"+m[1]); c >= 0 {
				pos.Line, pos.Col = i+1, len([]rune(line[:c]))+1
				break
			}
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	hint := "; expected valid YAML"
	if strings.Contains(msg, "alphabetic or numeric character") || strings.Contains(msg, "unknown anchor") {
		hint = `; expected valid YAML (a value starting with * or & must be quoted, like "*")`
	}
	l.c.addf(pos, "YAML syntax error: %s%s", msg, hint)
}

// decodeConfig reads km.yaml's top-level mapping into cfg.
func (l *loader) decodeConfig(d *decoder, root *yaml.Node, cfg *Config) {
	root = ResolveNode(root)
	if root.Kind != yaml.MappingNode {
		d.wrongType(root, "km.yaml", "a mapping with keys region, prefix, github, refresher, profilesDir, sandboxes")
		return
	}
	f := d.fields(root, "km.yaml", []string{"region", "prefix", "github", "refresher", "profilesDir", "sandboxes", "safety", "quotas"})
	if v, ok := f["region"]; ok {
		if s, ok := d.str(v.val, "region", "an AWS region name like us-east-1"); ok {
			if err := checkRegion(s); err != nil {
				d.errf(v.val, "%v", err)
			} else {
				cfg.Region = s
			}
		}
	}
	if v, ok := f["prefix"]; ok {
		if s, ok := d.str(v.val, "prefix", "letters, digits and hyphens, like km"); ok {
			if err := checkPrefix(s); err != nil {
				d.errf(v.val, "%v", err)
			} else {
				cfg.Prefix = s
			}
		}
	}
	if v, ok := f["github"]; ok {
		before := len(l.c.list)
		l.decodeGitHub(d, v.val, cfg)
		l.githubBroken = len(l.c.list) > before
	}
	if v, ok := f["refresher"]; ok {
		l.decodeRefresher(d, v.val, &cfg.Refresher)
	}
	if v, ok := f["profilesDir"]; ok {
		l.profilesDirPos = d.pos(ResolveNode(v.val))
		if s, ok := d.str(v.val, "profilesDir", "the folder holding SandboxProfile files, relative to km.yaml"); ok {
			if s == "" {
				d.errf(v.val, "profilesDir is empty; expected a folder, like profiles")
			} else {
				l.profilesDirSet = true
				l.profilesDirRaw = s
				if filepath.IsAbs(s) {
					cfg.ProfilesDir = filepath.Clean(s)
				} else {
					cfg.ProfilesDir = filepath.Join(cfg.Dir, s)
				}
			}
		}
		if !l.profilesDirSet {
			cfg.ProfilesDir = ""
		}
	}
	if v, ok := f["sandboxes"]; ok {
		l.decodeSandboxes(d, v.val, cfg)
	}
	if v, ok := f["safety"]; ok {
		l.decodeSafety(d, v.val, &cfg.Safety)
	}
	if v, ok := f["quotas"]; ok {
		l.decodeQuotas(d, v.val, cfg)
	}
}
