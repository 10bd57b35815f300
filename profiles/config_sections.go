package profiles

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/klankermaker/km/internal/pemkey"
)

var githubKeys = []string{"appClientId", "appId", "privateKeyFile", "apiURL", "webURL", "installations", "defaultInstallation"}

func (l *loader) decodeGitHub(d *decoder, n *yaml.Node, cfg *Config) {
	if !d.isMapping(n, "github") {
		return
	}
	g := &cfg.GitHub
	f := d.fields(n, "github", githubKeys)
	if v, ok := f["appClientId"]; ok {
		if s, ok := d.str(v.val, "github.appClientId", "the App's client ID, like Iv1.abc123"); ok {
			if s == "" || strings.ContainsAny(s, " \t\r\n") || LooksSecret(s) {
				d.errf(v.val, "github.appClientId: found %s; expected the App's client ID, like Iv1.abc123 (from the App's settings page)", ShowValue(s))
			} else {
				g.AppClientID = s
			}
		}
	}
	if v, ok := f["appId"]; ok {
		if id, ok := d.integer(v.val, "github.appId", "the App's numeric ID, like 123456"); ok {
			if id <= 0 {
				d.errf(v.val, "github.appId: found %d; expected a positive integer, the App's numeric ID", id)
			} else {
				g.AppID = id
			}
		}
	}
	if v, ok := f["privateKeyFile"]; ok {
		l.loadKey(d, v.val, cfg)
	}
	for key, dst := range map[string]*string{"apiURL": &g.APIURL, "webURL": &g.WebURL} {
		v, ok := f[key]
		if !ok {
			continue
		}
		if s, ok := d.str(v.val, "github."+key, "an http(s) URL"); ok {
			if err := checkURL("github."+key, s); err != nil {
				d.errf(v.val, "%v", err)
			} else {
				*dst = strings.TrimRight(s, "/")
			}
		}
	}
	if v, ok := f["installations"]; ok {
		l.decodeInstallations(d, v.val, g)
	}
	if len(g.Installations) > 0 {
		g.DefaultInstallation = g.Installations[0].Account
	}
	if v, ok := f["defaultInstallation"]; ok {
		if s, ok := d.str(v.val, "github.defaultInstallation", "an account listed under github.installations"); ok {
			inst, found := findInstallation(g.Installations, s)
			switch {
			case found:
				g.DefaultInstallation = inst.Account
			case containsFold(l.badAccounts, s):
				// Its installation entry is already reported.
			case len(g.Installations) == 0:
				d.errf(v.val, "github.defaultInstallation: %s is not listed, and github.installations is empty; expected an account listed under github.installations", ShowValue(s))
			default:
				d.errf(v.val, "github.defaultInstallation: %s is not listed under github.installations; expected one of %s%s",
					ShowValue(s), strings.Join(accounts(g.Installations), ", "), DidYouMean(s, accounts(g.Installations)))
			}
		}
	}
}

func accounts(list []Installation) []string {
	out := make([]string, len(list))
	for i, in := range list {
		out[i] = in.Account
	}
	return out
}

func findInstallation(list []Installation, account string) (Installation, bool) {
	for _, in := range list {
		if strings.EqualFold(in.Account, account) {
			return in, true
		}
	}
	return Installation{}, false
}

func (l *loader) decodeInstallations(d *decoder, n *yaml.Node, g *GitHub) {
	if !d.isMapping(n, "github.installations") {
		return
	}
	n = ResolveNode(n)
	const expected = "a positive integer, the installation id (see km configure github --discover)"
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := ResolveNode(n.Content[i]), ResolveNode(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.errf(k, "github.installations: found %s as a key; expected an account login", DescribeNode(k))
			continue
		}
		account := k.Value
		if err := CheckLogin(account); err != nil {
			d.errf(k, "github.installations: account %v", err)
			continue
		}
		if line, dup := seen[strings.ToLower(account)]; dup {
			d.errf(k, "github.installations: duplicate account %s (also at line %d; accounts compare case-insensitively); keep one", ShowValue(account), line)
			continue
		}
		seen[strings.ToLower(account)] = k.Line
		id, ok := d.integer(v, "github.installations."+account, expected)
		if !ok {
			if IsNullNode(v) {
				d.errf(v, "github.installations.%s: found an empty value; expected %s", account, expected)
			}
			l.badAccounts = append(l.badAccounts, account)
			continue
		}
		if id <= 0 {
			d.errf(v, "github.installations.%s: found %d; expected %s", account, id, expected)
			l.badAccounts = append(l.badAccounts, account)
			continue
		}
		g.Installations = append(g.Installations, Installation{Account: account, ID: id, Pos: d.pos(k)})
	}
}

// loadKey reads and checks privateKeyFile. The key's content never reaches a message.
func (l *loader) loadKey(d *decoder, n *yaml.Node, cfg *Config) {
	const expected = "the path of the App's .pem private key, relative to km.yaml's folder"
	s, ok := d.str(n, "github.privateKeyFile", expected)
	if !ok {
		return
	}
	if LooksSecret(s) || strings.ContainsAny(s, "\r\n") {
		d.errf(n, "github.privateKeyFile holds what looks like key material, not a path; expected %s (save the key to a file)", expected)
		return
	}
	if s == "" {
		d.errf(n, "github.privateKeyFile is empty; expected %s, or leave the key out to keep what SSM holds", expected)
		return
	}
	abs := s
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(cfg.Dir, s)
	}
	shown := l.display(s)
	data, err := os.ReadFile(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Optional for plan-only runs: plan keeps what SSM holds (with a
		// note); an apply that must upload the key fails (internal/planapply).
		cfg.GitHub.PrivateKeyFile = abs
		cfg.GitHub.PrivateKeyMissing = true
		return
	case err != nil:
		d.errf(n, "github.privateKeyFile: cannot read %s: %v", shown, osReason(err))
		return
	}
	fp, err := pemkey.Fingerprint(data)
	if err != nil {
		d.errf(n, "github.privateKeyFile: %s: %v", shown, err)
		return
	}
	cfg.GitHub.PrivateKeyFile = abs
	cfg.GitHub.PrivateKeyPEM = data
	cfg.GitHub.KeyFingerprint = fp
}

var refresherKeys = []string{"schedule", "memoryMB", "timeoutSeconds", "logRetentionDays", "architecture"}

func (l *loader) decodeRefresher(d *decoder, n *yaml.Node, r *Refresher) {
	if !d.isMapping(n, "refresher") {
		return
	}
	f := d.fields(n, "refresher", refresherKeys)
	if v, ok := f["schedule"]; ok {
		if s, ok := d.str(v.val, "refresher.schedule", "rate(N minutes), rate(N hours) or cron(...)"); ok {
			if err := checkSchedule(s); err != nil {
				d.errf(v.val, "refresher.%v", err)
			} else {
				r.Schedule = s
			}
		}
	}
	if v, ok := f["memoryMB"]; ok {
		if x, ok := d.int32In(v.val, "refresher.memoryMB", 128, 10240); ok {
			r.MemoryMB = x
		}
	}
	if v, ok := f["timeoutSeconds"]; ok {
		if x, ok := d.int32In(v.val, "refresher.timeoutSeconds", 1, 900); ok {
			r.TimeoutSeconds = x
		}
	}
	if v, ok := f["logRetentionDays"]; ok {
		if x, ok := d.integer(v.val, "refresher.logRetentionDays", "a number of days CloudWatch Logs accepts, like 30"); ok {
			if x < 0 || x > 1<<31-1 {
				x = -1
			}
			if err := checkRetention(int32(x)); err != nil {
				d.errf(v.val, "refresher.%v", err)
			} else {
				r.LogRetentionDays = int32(x)
			}
		}
	}
	if v, ok := f["architecture"]; ok {
		if s, ok := d.str(v.val, "refresher.architecture", "arm64 or x86_64"); ok {
			if s != "arm64" && s != "x86_64" {
				d.errf(v.val, "refresher.architecture: found %s; expected arm64 or x86_64%s", ShowValue(s), DidYouMean(s, []string{"arm64", "x86_64"}))
			} else {
				r.Architecture = s
			}
		}
	}
}

var sandboxKeys = []string{"id", "profile", "principal"}

func (l *loader) decodeSandboxes(d *decoder, n *yaml.Node, cfg *Config) {
	items, ok := d.list(n, "sandboxes", "a list of {id, profile, principal} entries")
	if !ok {
		return
	}
	seen := map[string]int{}
	type owner struct {
		id   string
		line int
	}
	principals := map[string]owner{} // identity -> the first sandbox naming it
	for _, it := range items {
		if it.Kind != yaml.MappingNode {
			d.wrongType(it, "sandboxes entry", "a mapping with id, profile and optionally principal")
			continue
		}
		f := d.fields(it, "sandboxes entry", sandboxKeys)
		sb := Sandbox{Pos: d.pos(it)}
		good := true
		rawID := "" // for messages, even when malformed or duplicate
		if v, ok := f["id"]; ok {
			if s, ok := d.str(v.val, "sandboxes entry id", "a sandbox id like sb-7f3a9c"); ok {
				rawID = s
				if err := CheckSandboxID(s, cfg.Prefix); err != nil {
					d.errf(v.val, "%v", err)
					good = false
				} else if line, dup := seen[s]; dup {
					d.errf(v.val, "duplicate sandbox id %s (first at line %d); expected every id once", ShowValue(s), line)
					good = false
				} else {
					seen[s] = ResolveNode(v.val).Line
					sb.ID = s
				}
			} else {
				if IsNullNode(v.val) {
					d.errf(v.val, "sandboxes entry id is empty; expected a sandbox id like sb-7f3a9c")
				}
				good = false
			}
		} else {
			d.errf(it, "sandboxes entry has no id; expected id: followed by a sandbox id like sb-7f3a9c")
			good = false
		}
		profilePos := sb.Pos
		if v, ok := f["profile"]; ok {
			profilePos = d.pos(ResolveNode(v.val))
			if s, ok := d.str(v.val, "sandboxes entry profile", "the metadata.name of a profile in profilesDir"); ok && s != "" {
				sb.Profile = s
			} else {
				if ok || IsNullNode(v.val) {
					d.errf(v.val, "sandboxes entry profile is empty; expected the metadata.name of a profile in profilesDir")
				}
				good = false
			}
		} else {
			d.errf(it, "sandboxes entry has no profile; expected profile: followed by the metadata.name of a profile in profilesDir")
			good = false
		}
		// A principal problem is reported without dropping the entry, so
		// that the cross-file checks still run for it (Load fails anyway).
		if v, ok := f["principal"]; ok {
			s, ok := d.str(v.val, "sandboxes entry principal", "an IAM role or user ARN")
			switch {
			case !ok:
			case s == "":
				d.errf(v.val, "sandboxes entry principal is empty; expected the ARN of the IAM role or user that alone may read this sandbox's token, like arn:aws:iam::123456789012:role/km-sandbox-%s", orID(rawID))
			default:
				if err := CheckPrincipal(s); err != nil {
					d.errf(v.val, "%v", err)
				} else if first, dup := principals[principalIdentity(s)]; dup {
					d.errf(v.val, "principal %s is already the principal of sandbox %s (line %d); expected each sandbox to have its own role or user, since whoever holds a principal reads the tokens of every sandbox naming it", ShowValue(s), first.id, first.line)
				} else {
					principals[principalIdentity(s)] = owner{id: orID(rawID), line: ResolveNode(v.val).Line}
					sb.Principal = s
				}
			}
		} else {
			d.errf(it, "sandboxes entry %s has no principal; expected principal: followed by the ARN of the IAM role or user that alone may read this sandbox's token, like arn:aws:iam::123456789012:role/km-sandbox-%s (km create --principal ARN)", orID(rawID), orID(rawID))
		}
		if good {
			cfg.Sandboxes = append(cfg.Sandboxes, sb)
			l.sbProfilePos = append(l.sbProfilePos, profilePos)
		}
	}
}

// osReason strips the path from an os error (the message names the file itself).
func osReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// orID is a sandbox id for messages, or a placeholder when it is missing.
func orID(id string) string {
	if id == "" {
		return "ID"
	}
	return id
}
