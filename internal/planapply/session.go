package planapply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/lambdazip"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/internal/quota"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/state"
)

// Env is what a command brings from its process.
type Env struct {
	ConfigPath string
	Getenv     func(string) string
	Stdout     io.Writer
	Stderr     io.Writer
	Stdin      io.Reader
	// StateOptions are passed to state.New (tests add a recorder middleware).
	StateOptions state.Options
	// AWS, when set, is used instead of a client from the standard chain (tests).
	AWS *state.AWS
	// HTTPClient is used for GitHub (nil: default).
	HTTPClient *http.Client
	Now        func() time.Time
}

// Lookup is the environment variable k: through Getenv when set, else the
// process's.
func (e Env) Lookup(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

// LoadConfig loads and validates the declaration and applies env overrides.
func LoadConfig(e Env) (*profiles.Config, error) {
	cfg, err := profiles.Load(e.ConfigPath)
	if err != nil {
		return nil, err
	}
	cfg.ApplyEnv(e.Lookup)
	if _, err := QuotaTable(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Session is a loaded declaration connected to AWS.
type Session struct {
	Env     Env
	Config  *profiles.Config
	AWS     *state.AWS
	Runtime *reconcile.Runtime
	Names   names.Names

	quotas quota.Table // what km paces its AWS calls (when it connects) and its mints by
}

// Open loads the declaration, connects to AWS and prepares the runtime.
func Open(ctx context.Context, e Env) (*Session, error) {
	cfg, err := LoadConfig(e)
	if err != nil {
		return nil, err
	}
	return OpenWith(ctx, e, cfg)
}

// OpenWith connects an already loaded declaration.
func OpenWith(ctx context.Context, e Env, cfg *profiles.Config) (*Session, error) {
	opts := e.StateOptions
	if opts.Region == "" {
		opts.Region = cfg.Region
	}
	qt, err := QuotaTable(cfg)
	if err != nil {
		return nil, err
	}
	aws := e.AWS
	if aws == nil {
		if opts.Quotas == nil {
			opts.Quotas = &qt
		}
		if opts.MaxAttempts == 0 {
			// 5xx, resets and throttles are retried within the shared retry
			// budget; what is left fails the change and the apply says so.
			opts.MaxAttempts = 5
		}
		if aws, err = state.New(ctx, opts); err != nil {
			return nil, fmt.Errorf("connecting to AWS: %w", err)
		}
	}
	id, err := aws.CallerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking AWS who we are (sts:GetCallerIdentity): %w; check AWS credentials and region", err)
	}
	zip, _, err := lambdazip.Find(e.Lookup)
	if err != nil {
		return nil, err
	}
	n := names.New(cfg.Prefix)
	s := &Session{Env: e, Config: cfg, AWS: aws, Names: n, quotas: qt}
	s.Runtime = &reconcile.Runtime{
		AWS: aws, Names: n, Region: aws.Region(), Account: id.Account, Now: e.Now,
		Zip: zip, Minter: s.minterOnce(),
		Revoker: lambdaRevoker{aws: aws, function: n.Function()},
	}
	return s, nil
}

// minterOnce builds the GitHub App client on first use only, so plans and no-op
// applies make no GitHub call and read no private key.
func (s *Session) minterOnce() func(ctx context.Context) (reconcile.Minter, error) {
	var (
		once sync.Once
		c    *githubapp.Client
		err  error
	)
	return func(ctx context.Context) (reconcile.Minter, error) {
		once.Do(func() { c, err = s.AppClient(ctx) })
		if err != nil {
			return nil, err
		}
		return appMinter{Client: c, apiURL: s.Config.GitHub.APIURL}, nil
	}
}

// appMinter mints as the App and revokes a token it minted with the token
// itself (reconcile.MintedRevoker).
type appMinter struct {
	*githubapp.Client
	apiURL string
}

func (m appMinter) RevokeMinted(ctx context.Context, tok githubapp.Token) error {
	return githubapp.NewTokenClient(tok.Value, githubapp.Options{APIURL: m.apiURL, UserAgent: "km"}).RevokeToken(ctx)
}

// AppClient returns a GitHub client authenticated as the App, with the private
// key from km.yaml's privateKeyFile or, when omitted, from SSM. The App key's
// KMS key lets only the refresher decrypt it (docs/security.md), so on AWS
// the SSM fallback succeeds only for a principal that policy was changed for;
// against an emulator it serves local runs without a key file.
func (s *Session) AppClient(ctx context.Context) (*githubapp.Client, error) {
	cfg := s.Config
	if cfg.GitHub.AppClientID == "" {
		return nil, reconcile.ErrGitHubNotConfigured
	}
	pem := cfg.GitHub.PrivateKeyPEM
	if pem == nil {
		p, err := s.AWS.GetParameter(ctx, s.Names.PrivateKeyParam(), true)
		if err != nil {
			return nil, fmt.Errorf("reading the App private key from SSM %s: %w; on AWS only the refresher may decrypt it (docs/security.md): set github.privateKeyFile in km.yaml to the App's .pem, or run `km configure github --private-key-file F`", s.Names.PrivateKeyParam(), err)
		}
		pem = []byte(p.Value)
	}
	key, err := githubapp.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("the App private key: %w", err)
	}
	now := s.Env.Now
	if now == nil {
		now = time.Now
	}
	o := githubapp.Options{APIURL: cfg.GitHub.APIURL, UserAgent: "km"}
	if l, ok := s.quotas.Lookup("github:CreateInstallationToken"); ok {
		o.Mints = rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst)
	}
	return githubapp.NewAppClient(
		githubapp.AppAuth{ClientID: cfg.GitHub.AppClientID, Signer: githubapp.NewRSASigner(key), Now: now}, o,
	), nil
}

// lockWho is the Who of this process's lock: user@host.
func lockWho() string {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		who += "@" + h
	}
	return who
}

// holderGone says why the lock holder is known to be dead — its process no
// longer runs on this host (kill -9, a crash) — or "" when km cannot tell.
func holderGone(h state.LockInfo) string {
	host, err := os.Hostname()
	if err != nil || h.PID <= 0 || !strings.HasSuffix(h.Who, "@"+host) || h.PID == os.Getpid() {
		return ""
	}
	if !processGone(h.PID) {
		return ""
	}
	return fmt.Sprintf("process %d on %s, which took it, no longer runs", h.PID, host)
}

// Lock takes the state lock for op; release it with the returned function.
func (s *Session) Lock(ctx context.Context, op string, timeout time.Duration) (func(), error) {
	info := state.LockInfo{ID: newID(), Operation: op, Who: lockWho(), Created: time.Now().UTC(), PID: os.Getpid()}
	l, err := s.AWS.AcquireLock(ctx, s.Names.LockParam(), info, timeout)
	if err != nil {
		var held *state.LockHeldError
		if errors.As(err, &held) {
			held.Stale = holderGone(held.Holder)
		}
		return nil, err
	}
	return func() {
		// Release even when ctx was cancelled (Ctrl-C).
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.Release(rctx); err != nil {
			fmt.Fprintf(s.Env.Stderr, "Warning: releasing the state lock %s: %v\n", info.ID, err)
		}
	}, nil
}

// ForceUnlock is km force-unlock: it shows the holder of the lock (who, the
// process, when and how long ago, whether it is known to be gone), asks for
// yes unless force, and releases the lock if id still holds it.
func (s *Session) ForceUnlock(ctx context.Context, id string, force bool) error {
	name := s.Names.LockParam()
	h, err := s.AWS.ReadLock(ctx, name)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", id, err)
	}
	out := s.Env.Stdout
	fmt.Fprintf(out, "The state lock %s is held by:\n%s", name, h.Describe())
	if gone := holderGone(h); gone != "" {
		fmt.Fprintf(out, "The holder is gone: %s.\n", gone)
	}
	if h.ID != id {
		return fmt.Errorf("force-unlock %s: refused, the lock is held by ID %s, not %s; check the ID in the lock error message", id, h.ID, id)
	}
	if !force {
		fmt.Fprint(out, "\nDo you really want to force-unlock?\n  km will remove the lock on the remote state.\n"+
			"  This will allow local km commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ")
		ok, err := readYes(s.Env.Stdin)
		if err != nil {
			return fmt.Errorf("%w; use --force in scripts", err)
		}
		if !ok {
			fmt.Fprintln(out, "\nforce-unlock cancelled.")
			return ErrCancelled
		}
	}
	return s.AWS.ForceUnlock(ctx, name, id)
}
