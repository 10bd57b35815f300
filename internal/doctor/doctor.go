package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/planapply"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/state"
)

// Status is a check's outcome.
type Status string

// Outcomes.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Check is one line of km doctor.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Report is everything km doctor found, in the order checked.
type Report struct {
	Checks []Check `json:"checks"`
	// At is when the checks ran.
	At time.Time `json:"-"`
}

// DoctorFormatVersion is the format_version of km doctor --format json
// (docs/read-json.md, docs/doctor-json.schema.json): a new field bumps the
// minor version, a removed or re-typed one the major version.
const DoctorFormatVersion = "1.0"

// Statuses returns every check status, the stable enum of the JSON output.
func Statuses() []Status { return []Status{Pass, Warn, Fail} }

// Failed reports whether any check failed.
func (r Report) Failed() bool { return r.count(Fail) > 0 }

func (r Report) count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Find returns the first check with this name.
func (r Report) Find(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// WriteText prints one line per check, each failure and warning followed by its fix.
func (r Report) WriteText(w io.Writer, color bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		st := string(c.Status)
		if color {
			switch c.Status {
			case Pass:
				st = "\x1b[32m" + st + "\x1b[0m"
			case Warn:
				st = "\x1b[33m" + st + "\x1b[0m"
			case Fail:
				st = "\x1b[31m" + st + "\x1b[0m"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st, c.Name, c.Message)
		if c.Fix != "" && c.Status != Pass {
			fmt.Fprintf(tw, "\t\tfix: %s\n", c.Fix)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nkm doctor: %d checks: %d PASS, %d WARN, %d FAIL\n", len(r.Checks), r.count(Pass), r.count(Warn), r.count(Fail))
	return err
}

type doctorDoc struct {
	FormatVersion string        `json:"format_version"`
	GeneratedAt   string        `json:"generated_at"`
	OK            bool          `json:"ok"`
	Summary       doctorSummary `json:"summary"`
	Checks        []doctorCheck `json:"checks"`
}

type doctorSummary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
}

type doctorCheck struct {
	Name    string  `json:"name"`
	Status  Status  `json:"status"`
	Message string  `json:"message"`
	Fix     *string `json:"fix"`
}

// WriteJSON prints the report as one JSON document (docs/read-json.md):
// status is PASS, WARN or FAIL; fix is null for a passing check.
func (r Report) WriteJSON(w io.Writer) error {
	doc := doctorDoc{
		FormatVersion: DoctorFormatVersion, GeneratedAt: r.At.UTC().Format(time.RFC3339), OK: !r.Failed(),
		Summary: doctorSummary{Pass: r.count(Pass), Warn: r.count(Warn), Fail: r.count(Fail)},
		Checks:  make([]doctorCheck, 0, len(r.Checks)),
	}
	for _, c := range r.Checks {
		if !slices.Contains(Statuses(), c.Status) {
			return fmt.Errorf("km doctor: check %s has status %q, not one of PASS, WARN, FAIL (docs/read-json.md): this is a bug in km", c.Name, c.Status)
		}
		dc := doctorCheck{Name: c.Name, Status: c.Status, Message: c.Message}
		if c.Fix != "" && c.Status != Pass {
			fix := c.Fix
			dc.Fix = &fix
		}
		doc.Checks = append(doc.Checks, dc)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// doctor holds what the checks share.
type doctor struct {
	e   planapply.Env
	cfg *profiles.Config
	aws *state.AWS
	n   names.Names
	now time.Time
	r   Report

	clientID string // the App client id in use (km.yaml, else SSM)
	pem      []byte // the App key in use (km.yaml, else SSM); secret
	app      *githubapp.Client
	appOK    bool
	fn       state.Function
	fnOK     bool
}

func (d *doctor) add(name string, s Status, msg, fix string) {
	d.r.Checks = append(d.r.Checks, Check{Name: name, Status: s, Message: msg, Fix: fix})
}

// Doctor runs km's health checks: the declaration, AWS identity and region, the
// App configuration in SSM, GitHub's view of the App and of every installation,
// the refresher, and every sandbox's tokens and schedule. It never returns an
// error: every problem is a FAIL line with its fix.
func Doctor(ctx context.Context, e planapply.Env) Report {
	d := &doctor{e: e, now: e.Clock()()}
	d.r.At = d.now
	cfg, err := planapply.LoadConfig(e)
	if err != nil {
		d.add("config", Fail, err.Error(), "fix "+e.ConfigPath+" (km validate shows every error with its line), or pass --config FILE")
		return d.r
	}
	d.cfg, d.n = cfg, names.New(cfg.Prefix)
	d.add("config", Pass, fmt.Sprintf("%s: prefix %s, %d sandbox(es), %d profile(s)", cfg.Path, cfg.Prefix, len(cfg.Sandboxes), len(cfg.Profiles)), "")
	d.checkConfigured()
	if !d.checkAWS(ctx) {
		return d.r
	}
	d.checkAppConfig(ctx)
	d.checkGitHubApp(ctx)
	d.checkInstallations(ctx)
	d.checkLegacy(ctx)
	d.checkFunction(ctx)
	d.checkScheduleGroup(ctx)
	for _, sb := range cfg.Sandboxes {
		d.checkSandbox(ctx, sb)
	}
	d.checkFailures(ctx)
	d.checkUnrevoked(ctx)
	return d.r
}

func notFoundOr(err error, missing, other string) string {
	if state.IsNotFound(err) {
		return missing
	}
	return other + ": " + err.Error()
}

// oneLine keeps a multi-line error on its check's line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
