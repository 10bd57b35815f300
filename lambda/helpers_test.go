package lambda_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/githubsim"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/refreshertest"
	"github.com/klankermaker/km/internal/sandboxtoken"
	"github.com/klankermaker/km/internal/testkeys"
	"github.com/klankermaker/km/lambda"
	"github.com/klankermaker/km/state"
)

// uniq is an id fragment unique to this run: kumo's store is shared by every
// server in the process and never reset.
func uniq(t testing.TB) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// fixture is kumo (SSM) plus githubsim with an App whose client ID and key
// are in SSM under a prefix of its own, as km apply leaves them.
type fixture struct {
	t        testing.TB
	aws      *state.AWS
	rec      *state.Recorder
	kumoURL  string
	sim      *githubsim.Server
	prefix   string
	clientID string
	pem      []byte
	owners   map[string]sandboxtoken.Owner // declared owners by parameter (newSandbox)
}

func newFixture(t testing.TB, opts ...githubsim.Option) *fixture {
	t.Helper()
	aws, rec, url := kumoClient(t)
	sim := githubsim.New(opts...)
	t.Cleanup(sim.Close)
	app, pemBytes, err := sim.CreateApp("km refresher test")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, aws: aws, rec: rec, kumoURL: url, sim: sim, prefix: "t" + uniq(t), clientID: app.ClientID, pem: pemBytes,
		owners: map[string]sandboxtoken.Owner{}}
	f.put(names.New(f.prefix).AppClientIDParam(), "String", app.ClientID)
	f.putKey(pemBytes)
	rec.Reset()
	return f
}

func (f *fixture) put(name, typ, value string) int64 {
	f.t.Helper()
	v, err := f.aws.PutParameter(context.Background(), state.PutParameterInput{Name: name, Type: typ, Value: value, Overwrite: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// putKey stores a PEM as km apply does when the key is rotated.
func (f *fixture) putKey(pemBytes []byte) {
	f.t.Helper()
	f.put(names.New(f.prefix).PrivateKeyParam(), "SecureString", string(pemBytes))
}

// handler is the production handler wired to the fixture; sleeps are
// recorded instead of waited when sleeps is not nil.
func (f *fixture) handler(logs *lineBuffer, sleeps *sleepRecorder) *lambda.Handler {
	h := &lambda.Handler{SSM: f.aws, Prefix: f.prefix, APIURL: f.sim.URL, Logger: logs.logger()}
	if sleeps != nil {
		o := lambda.GitHubOptions(f.sim.URL, nil)
		o.Sleep = sleeps.sleep
		h.NewGitHub = lambda.AppMinter(o)
	}
	return h
}

// sandbox is one sandbox's refresh request and its token parameters.
type sandbox struct {
	id      string
	payload sandboxtoken.Payload
}

// newSandbox declares a sandbox with one owner per installation given, the
// way km apply writes the schedule input (first owner at the seed's name).
func (f *fixture) newSandbox(owners ...sandboxtoken.Owner) sandbox {
	f.t.Helper()
	id := "sb-" + uniq(f.t)
	p := sandboxtoken.Payload{SandboxID: id, Prefix: f.prefix, KeyAlias: names.New(f.prefix).KeyAlias(id)}
	for i, o := range owners {
		o.Parameter = sandboxtoken.Param(id, o.Owner, i == 0)
		p.Owners = append(p.Owners, o)
		f.owners[o.Parameter] = o
		if i == 0 {
			p.InstallationID, p.Permissions = o.InstallationID, o.Permissions
			for _, r := range o.Repositories {
				p.AllowedRepos = append(p.AllowedRepos, o.Owner+"/"+r)
			}
			if len(o.Repositories) == 0 {
				p.AllowedRepos = []string{o.Owner + "/*"}
			}
		}
	}
	return sandbox{id: id, payload: p}
}

func (s sandbox) input() json.RawMessage { return json.RawMessage(s.payload.Encode()) }

// seedInput is the seed's four-field payload for the sandbox's first owner.
func (s sandbox) seedInput() json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"sandbox_id": s.id, "installation_id": s.payload.InstallationID,
		"allowed_repos": s.payload.AllowedRepos, "permissions": s.payload.Permissions,
	})
	return b
}

// seedOld writes a stand-in for the token km apply minted, so that tests can
// tell whether it was replaced.
func (f *fixture) seedOld(param string) stored {
	f.t.Helper()
	return f.seedToken(param, "ghs_previousTokenStandIn0000000000000", time.Now().Add(time.Hour))
}

// seedToken stores value in param as km apply would: with the metadata of
// the owner newSandbox declared for it (scope, prefix) expiring at expires.
// The refresher refreshes only a parameter km apply wrote.
func (f *fixture) seedToken(param, value string, expires time.Time) stored {
	f.t.Helper()
	o, ok := f.owners[param]
	if !ok {
		f.t.Fatalf("seedToken: %s is not a parameter of a sandbox newSandbox declared", param)
	}
	var repos []string
	if len(o.Repositories) > 0 {
		repos = o.Repositories
	}
	desc := sandboxtoken.Meta{
		Prefix: f.prefix, Owner: o.Owner, InstallationID: o.InstallationID,
		Scope:        githubapp.ScopeFingerprint(o.InstallationID, repos, o.Permissions),
		Repositories: joinOr(o.Repositories, "*"), Permissions: permString(o.Permissions),
		ExpiresAt: expires.UTC(), MintedAt: expires.Add(-time.Hour).UTC(), MintedBy: "apply", TokenSHA: sha12(value),
	}.Encode()
	if _, err := f.aws.PutParameter(context.Background(), state.PutParameterInput{
		Name: param, Type: "SecureString", Value: value, Description: desc, Overwrite: true,
	}); err != nil {
		f.t.Fatal(err)
	}
	return f.read(param)
}

// stored is a token parameter as SSM holds it.
type stored struct {
	Value   string
	Version int64
	Meta    sandboxtoken.Meta
	MetaErr error
}

func (f *fixture) read(param string) stored {
	f.t.Helper()
	ctx := context.Background()
	p, err := f.aws.GetParameter(ctx, param, true)
	if err != nil {
		f.t.Fatalf("reading %s: %v", param, err)
	}
	s := stored{Value: p.Value, Version: p.Version}
	dir := param[:strings.LastIndex(param, "/")]
	ps, err := f.aws.DescribeParameters(ctx, dir)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range ps {
		if d.Name == param {
			s.Meta, s.MetaErr = sandboxtoken.DecodeMeta(d.Description)
		}
	}
	return s
}

// assertFresh checks that param holds a live githubsim token with exactly
// the owner's scope and the metadata km plan reads.
func (f *fixture) assertFresh(sb sandbox, o sandboxtoken.Owner, before stored) stored {
	f.t.Helper()
	got := f.read(o.Parameter)
	if got.Value == before.Value || got.Version <= before.Version {
		f.t.Fatalf("%s was not replaced (version %d → %d)", o.Parameter, before.Version, got.Version)
	}
	issued, ok := f.sim.LookupToken(got.Value)
	if !ok || !f.sim.TokenLive(got.Value) {
		f.t.Fatalf("%s holds a token githubsim did not issue or that is not live", o.Parameter)
	}
	if issued.InstallationID != o.InstallationID {
		f.t.Errorf("token installation %d, want %d", issued.InstallationID, o.InstallationID)
	}
	if !sameSet(issued.Repositories, o.Repositories) {
		f.t.Errorf("token repositories %v, want %v", issued.Repositories, o.Repositories)
	}
	if !maps.Equal(issued.Permissions, o.Permissions) {
		f.t.Errorf("token permissions %v, want %v", issued.Permissions, o.Permissions)
	}
	if got.MetaErr != nil {
		f.t.Fatalf("metadata of %s: %v", o.Parameter, got.MetaErr)
	}
	var repos []string
	if len(o.Repositories) > 0 {
		repos = o.Repositories
	}
	want := sandboxtoken.Meta{
		Prefix: f.prefix, Owner: o.Owner, InstallationID: o.InstallationID,
		Scope:        githubapp.ScopeFingerprint(o.InstallationID, repos, o.Permissions),
		Repositories: joinOr(o.Repositories, "*"), Permissions: permString(o.Permissions),
		ExpiresAt: issued.ExpiresAt.UTC(), MintedBy: "refresher", TokenSHA: sha12(got.Value),
	}
	m := got.Meta
	m.MintedAt = time.Time{}
	want.ExpiresAt, m.ExpiresAt = want.ExpiresAt.Truncate(time.Second), m.ExpiresAt.Truncate(time.Second)
	if m != want {
		f.t.Errorf("metadata of %s:\n got %+v\nwant %+v", o.Parameter, m, want)
	}
	return got
}

func joinOr(s []string, empty string) string {
	if len(s) == 0 {
		return empty
	}
	return strings.Join(s, ",")
}

func permString(p map[string]string) string {
	var parts []string
	for k, v := range p {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// sha12 is the audit hash the metadata and logs carry: the first 12 hex
// characters of SHA-256(token).
func sha12(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])[:12]
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[strings.ToLower(s)]++
	}
	for _, s := range b {
		m[strings.ToLower(s)]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// lineBuffer collects the handler's JSON log lines; safe for concurrent use.
type lineBuffer struct{ refreshertest.Output }

func (b *lineBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// events parses every log line; a line that is not JSON fails the test.
func (b *lineBuffer) events(t testing.TB) []map[string]any {
	t.Helper()
	return parseEvents(t, b.String())
}

func parseEvents(t testing.TB, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// assertNoSecrets fails when any token githubsim issued, or any PEM, appears
// in text.
func (f *fixture) assertNoSecrets(where, text string, extra ...[]byte) {
	f.t.Helper()
	for _, tok := range f.sim.Tokens() {
		if strings.Contains(text, tok.Token) {
			f.t.Errorf("%s contains an installation token", where)
		}
	}
	for _, p := range append([][]byte{f.pem}, extra...) {
		body := strings.TrimSpace(string(p))
		lines := strings.Split(body, "\n")
		if len(lines) > 2 && strings.Contains(text, lines[1]) {
			f.t.Errorf("%s contains App private key material", where)
		}
	}
	if strings.Contains(text, "PRIVATE KEY") {
		f.t.Errorf("%s contains a PEM header", where)
	}
}

// sleepRecorder replaces the retry transport's sleep: it records each wait
// and returns at once.
type sleepRecorder struct {
	mu     sync.Mutex
	waits  []time.Duration
	budget time.Duration // total wait allowed before sleeping fails (0: unlimited)
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total time.Duration
	for _, w := range s.waits {
		total += w
	}
	if s.budget > 0 && total+d > s.budget {
		return context.DeadlineExceeded
	}
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// foreignKey is a valid App key GitHub does not know.
func foreignKey(t testing.TB) []byte {
	t.Helper()
	return testkeys.NewPEM(t, false)
}
