package planapply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/profiles"
	"github.com/klankermaker/km/reconcile"
	"github.com/klankermaker/km/reconcile/views"
)

// CommentOptions are km comment's flags.
type CommentOptions struct {
	Repo     string // OWNER/NAME
	PR       int
	PlanFile string // empty: plan now (like km plan)
	Plan     PlanOptions
	// MaxComments caps how many comments one plan takes (default 10): the
	// diff of a larger plan is cut short, with a note saying so. The title,
	// summary, warnings and table always stay.
	MaxComments int
}

// DefaultMaxComments is the default cap on the comments one plan takes.
const DefaultMaxComments = 10

// CommentResult is what Comment did.
type CommentResult struct {
	githubapp.Result
	Marker string
	Parts  int
}

// Comment posts the plan as the pull request's sticky comment, or updates it
// in place: one comment (split into continued parts when longer than GitHub
// allows) per pull request and declaration, found by a hidden marker naming the
// declaration file and prefix. An identical comment is not re-sent. The token
// comes from GITHUB_TOKEN, the API from KM_GITHUB_API_URL, km.yaml
// github.apiURL, or api.github.com.
func Comment(ctx context.Context, e Env, o CommentOptions) (CommentResult, error) {
	owner, repo, ok := strings.Cut(o.Repo, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return CommentResult{}, fmt.Errorf("--repo %q: expected OWNER/NAME, e.g. my-org/infra", o.Repo)
	}
	if o.PR <= 0 {
		return CommentResult{}, fmt.Errorf("--pr %d: expected the pull request number", o.PR)
	}
	token := e.Lookup("GITHUB_TOKEN")
	if token == "" {
		return CommentResult{}, errors.New("GITHUB_TOKEN is not set: km comment posts with it (in GitHub Actions: env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }} and permissions: pull-requests: write)")
	}

	var (
		plan *reconcile.Plan
		meta reconcile.PlanMeta
		cfg  *profiles.Config
	)
	if o.PlanFile != "" {
		f, err := reconcile.ReadPlanFile(o.PlanFile)
		if err != nil {
			return CommentResult{}, err
		}
		plan, meta = f.Plan(), f.Meta()
		if cfg, err = optionalConfig(e); err != nil {
			return CommentResult{}, err
		}
		if meta.Declaration == "" {
			meta.Declaration = DeclarationRef(e.ConfigPath)
		}
	} else {
		s, err := Open(ctx, e)
		if err != nil {
			return CommentResult{}, err
		}
		pl, err := s.ComputePlan(ctx, "plan", o.Plan)
		if err != nil {
			return CommentResult{}, err
		}
		plan, meta, cfg = pl.Plan, s.planMeta(), s.Config
	}

	apiURL := strings.TrimRight(e.Lookup("KM_GITHUB_API_URL"), "/")
	if apiURL == "" && cfg != nil {
		apiURL = cfg.GitHub.APIURL
	}
	marker := CommentMarker(meta.Declaration, plan.Prefix)
	parts, err := commentParts(plan, meta, o.MaxComments)
	if err != nil {
		return CommentResult{}, err
	}
	gh := githubapp.NewTokenClient(token, githubapp.Options{APIURL: apiURL, UserAgent: "km"})
	res, err := gh.UpsertStickyComment(ctx, owner, repo, o.PR, marker, parts)
	out := CommentResult{Result: res, Marker: marker, Parts: len(parts)}
	if err != nil {
		return out, fmt.Errorf("posting the plan comment on %s#%d: %w", o.Repo, o.PR, err)
	}
	where := ""
	if len(res.URLs) > 0 {
		where = ": " + res.URLs[0]
	}
	fmt.Fprintf(e.Stdout, "Plan comment on %s#%d (%d part(s); %d created, %d updated, %d unchanged, %d deleted)%s\n",
		o.Repo, o.PR, len(parts), res.Created, res.Updated, res.Unchanged, res.Deleted, where)
	return out, nil
}

// optionalConfig loads the declaration when its file exists (for the API URL);
// a missing file is not an error when commenting a saved plan.
func optionalConfig(e Env) (*profiles.Config, error) {
	cfg, err := LoadConfig(e)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return cfg, err
}

// commentParts renders the plan as Markdown and splits it into comment bodies
// of at most views.DefaultPartRunes characters (room left for the marker
// line), keeping fences and <details> balanced. When more than maxComments
// parts would be needed, the diff is cut short.
func commentParts(p *reconcile.Plan, meta reconcile.PlanMeta, maxComments int) ([]string, error) {
	if maxComments <= 0 {
		maxComments = DefaultMaxComments
	}
	opts := views.MarkdownOptions{PlanMeta: meta}
	for {
		var b strings.Builder
		if err := views.RenderMarkdown(&b, p, opts); err != nil {
			return nil, err
		}
		parts := views.SplitComment(b.String(), views.DefaultPartRunes)
		if len(parts) <= maxComments {
			return parts, nil
		}
		// Budget the diff to what fits, leaving each part room for the
		// reopened fence and <details>; shrink until it fits.
		budget := maxComments*(views.DefaultPartRunes-1024) - 8192
		if opts.MaxDiffRunes > 0 {
			budget = opts.MaxDiffRunes * 9 / 10
		}
		if budget < 1024 {
			return parts[:maxComments], nil
		}
		opts.MaxDiffRunes = budget
	}
}

var markerUnsafe = regexp.MustCompile(`[^A-Za-z0-9._/-]+`)

// CommentMarker is the sticky comment's marker for a declaration file and
// prefix, e.g. "infra/km.yaml:km": two declarations in one repository get two
// comments. Characters GitHub markers may not hold become "-"; a long path is
// shortened with a hash.
func CommentMarker(declaration, prefix string) string {
	d := markerUnsafe.ReplaceAllString(declaration, "-")
	if d == "" {
		d = "km.yaml"
	}
	p := markerUnsafe.ReplaceAllString(prefix, "-")
	m := d + ":" + p
	if len(m) > 100 {
		sum := sha256.Sum256([]byte(declaration + "\x00" + prefix))
		h := hex.EncodeToString(sum[:6])
		keep := 100 - len(h) - 2 - len(p)
		m = d[len(d)-keep:] + "~" + h + ":" + p
	}
	return m
}
