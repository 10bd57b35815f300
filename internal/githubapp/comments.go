package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"
)

// Result reports what UpsertStickyComment did.
type Result struct {
	Created, Updated, Unchanged, Deleted int
	// URLs and IDs of the comment's parts, in order.
	URLs []string
	IDs  []int64
}

// Comment size limits. GitHub refuses a comment body longer than
// MaxCommentRunes characters; MarkerHeadroom is kept free for the hidden
// marker line UpsertStickyComment puts on top of every part (reconcile/views'
// SplitComment cuts a body into parts that leave it).
const (
	MaxCommentRunes = 65536
	MarkerHeadroom  = 256
)

var (
	markerPattern     = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,100}$`)
	markerLinePattern = regexp.MustCompile(`^<!-- km:plan marker=(\S+) part=(\d+) -->`)
	ownerPattern      = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}$`)
)

// MarkerLine is the hidden first line of part n (from 1) of the sticky
// comment marked marker.
func MarkerLine(marker string, part int) string {
	return fmt.Sprintf("<!-- km:plan marker=%s part=%d -->", marker, part)
}

// UpsertStickyComment makes the pull request's sticky comment marked marker
// read bodies, one comment per body (see reconcile/views.SplitComment). It lists every
// comment, takes those that start with the marker line, in order, as the
// current parts, edits the ones whose text changed in place, leaves identical
// ones alone (no request), posts missing parts and deletes surplus ones.
// An empty bodies deletes the whole comment. Use a token client.
func (c *Client) UpsertStickyComment(ctx context.Context, owner, repo string, pr int, marker string, bodies []string) (Result, error) {
	where := fmt.Sprintf("%s/%s#%d", owner, repo, pr)
	if c.initErr != nil {
		return Result{}, c.initErr
	}
	if !ownerPattern.MatchString(owner) || !repoNamePattern.MatchString(repo) || pr <= 0 {
		return Result{}, fmt.Errorf("sticky comment on %s: want --repo OWNER/NAME and a positive pull request number", where)
	}
	if !markerPattern.MatchString(marker) {
		return Result{}, fmt.Errorf("sticky comment on %s: marker %q must be 1-100 of A-Z a-z 0-9 . _ : / -", where, marker)
	}
	texts := make([]string, len(bodies))
	for i, b := range bodies {
		texts[i] = MarkerLine(marker, i+1) + "\n" + b
		if n := utf8.RuneCountInString(texts[i]); n > MaxCommentRunes {
			return Result{}, fmt.Errorf("sticky comment on %s: part %d is %d characters, GitHub allows %d; split the body with views.SplitComment(body, views.DefaultPartRunes) (reconcile/views)", where, i+1, n, MaxCommentRunes)
		}
	}

	existing, err := c.markedComments(ctx, owner, repo, pr, marker)
	if err != nil {
		return Result{}, err
	}

	var res Result
	for i, text := range texts {
		if i < len(existing) {
			old := existing[i]
			if normalizeBody(old.GetBody()) == normalizeBody(text) {
				res.Unchanged++
				res.URLs, res.IDs = append(res.URLs, old.GetHTMLURL()), append(res.IDs, old.GetID())
				continue
			}
			upd, _, err := c.gh.Issues.EditComment(ctx, owner, repo, old.GetID(), &github.IssueComment{Body: github.String(text)})
			if err != nil {
				return res, c.apiError(fmt.Sprintf("update part %d of the plan comment on %s", i+1, where), 0, "", err)
			}
			res.Updated++
			res.URLs, res.IDs = append(res.URLs, upd.GetHTMLURL()), append(res.IDs, upd.GetID())
			continue
		}
		created, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, pr, &github.IssueComment{Body: github.String(text)})
		if err != nil {
			return res, c.apiError(fmt.Sprintf("post part %d of the plan comment on %s", i+1, where), 0, "", err)
		}
		res.Created++
		res.URLs, res.IDs = append(res.URLs, created.GetHTMLURL()), append(res.IDs, created.GetID())
	}
	for _, old := range existing[min(len(texts), len(existing)):] {
		_, err := c.gh.Issues.DeleteComment(ctx, owner, repo, old.GetID())
		var er *github.ErrorResponse
		if err != nil && !(errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound) {
			return res, c.apiError(fmt.Sprintf("delete surplus part of the plan comment on %s", where), 0, "", err)
		}
		res.Deleted++
	}
	return res, nil
}

// markedComments returns the pull request's comments that start with a
// marker line for marker, oldest first.
func (c *Client) markedComments(ctx context.Context, owner, repo string, pr int, marker string) ([]*github.IssueComment, error) {
	var marked []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, pr, opts)
		if err != nil {
			return nil, c.apiError(fmt.Sprintf("list comments on %s/%s#%d", owner, repo, pr), 0, "", err)
		}
		for _, cm := range page {
			m := markerLinePattern.FindStringSubmatch(cm.GetBody())
			if m != nil && m[1] == marker {
				marked = append(marked, cm)
			}
		}
		if resp.NextPage == 0 || resp.NextPage == opts.Page {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.SliceStable(marked, func(i, j int) bool { return marked[i].GetID() < marked[j].GetID() })
	return marked, nil
}

func normalizeBody(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
