package githubsim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Comment is an issue or pull-request comment.
type Comment struct {
	ID      int64
	Body    string
	User    string // author login, e.g. "github-actions[bot]"
	Created time.Time
	Updated time.Time
}

const (
	maxCommentLen       = 65536
	actionsBotLogin     = "github-actions[bot]"
	actionsBotID        = 41898282
	msgCommentTooLong   = "Body is too long (maximum is 65536 characters)"
	msgNotAccessible    = "Resource not accessible by integration"
	msgCommentBodyBlank = "Body cannot be blank"
)

// SetCommentToken sets a GITHUB_TOKEN-style token accepted (as "Bearer" or
// "token") on the issue-comment endpoints of every repository, acting as
// github-actions[bot]. Installation tokens with issues or pull_requests
// permission are accepted too, acting as "{app-slug}[bot]".
func (s *Server) SetCommentToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.commentToken = tok
}

// Comments returns the comments on an issue or pull request, oldest first.
func (s *Server) Comments(owner, repoName string, issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.st.issueComments(owner, repoName, issue) {
		out = append(out, c.Comment)
	}
	return out
}

// AddComment posts a comment as user (a human "User" account unless the
// login ends in "[bot]"), e.g. to seed a pull request with other people's
// comments. The repository becomes known to the API if it was not.
func (s *Server) AddComment(owner, repoName string, issue int, user, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := "User"
	if strings.HasSuffix(user, "[bot]") {
		typ = "Bot"
	}
	rp := s.st.ensureRepo(s.st.ensureAccount(owner, ""), repoName, s.now())
	return s.addCommentLocked(rp, issue, s.st.ensureAccount(user, typ), body).Comment
}

func (s *Server) addCommentLocked(rp *repo, issue int, actor *account, body string) *comment {
	now := s.now()
	c := &comment{
		Comment: Comment{
			ID: s.st.ids.next(&s.st.ids.comment, 5_000_000), Body: body, User: actor.Login,
			Created: now, Updated: now,
		},
		Owner: rp.Owner.Login, Repo: rp.Name, Issue: issue, Actor: actor,
	}
	s.st.comments = append(s.st.comments, c)
	return c
}

func (st *state) issueComments(owner, repoName string, issue int) []*comment {
	var out []*comment
	for _, c := range st.comments {
		if strings.EqualFold(c.Owner, owner) && strings.EqualFold(c.Repo, repoName) && c.Issue == issue {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// commentActor authenticates a comment request for the repository. It holds
// s.mu; on failure it returns the status and message to send.
func (s *Server) commentActor(r *http.Request, rp *repo, write bool) (*account, int, string) {
	cred := credentials(r)
	if cred == "" {
		return nil, http.StatusUnauthorized, msgNeedsAuth
	}
	if s.st.commentToken != "" && cred == s.st.commentToken {
		bot := s.st.ensureAccount(actionsBotLogin, "Bot")
		bot.ID = actionsBotID
		return bot, 0, ""
	}
	ta, status := s.lookupLiveToken(cred)
	if status == http.StatusForbidden {
		return nil, status, msgSuspended
	}
	if status != http.StatusOK {
		return nil, http.StatusUnauthorized, msgBadCreds
	}
	if rp == nil || !s.st.tokenCovers(ta.tok, ta.inst, rp) {
		return nil, http.StatusNotFound, "Not Found"
	}
	need := levelRead
	if write {
		need = levelWrite
	}
	if permLevel(ta.tok.Permissions["issues"]) < need && permLevel(ta.tok.Permissions["pull_requests"]) < need {
		return nil, http.StatusForbidden, msgNotAccessible
	}
	slug := "app"
	if s.st.app != nil {
		slug = s.st.app.Slug
	}
	return s.st.ensureAccount(slug+"[bot]", "Bot"), 0, ""
}

// commentTarget resolves the repository and authenticates; on failure it
// writes the answer and returns nil. Callers hold s.mu.
func (s *Server) commentTarget(w http.ResponseWriter, r *http.Request, write bool) (*repo, *account) {
	owner, name := r.PathValue("owner"), strings.TrimSuffix(r.PathValue("repo"), ".git")
	rp := s.st.findRepo(owner, name)
	actor, status, msg := s.commentActor(r, rp, write)
	if actor == nil {
		writeError(w, status, msg)
		return nil, nil
	}
	if rp == nil {
		// Only the comment token gets here: it works on every repository.
		rp = s.st.ensureRepo(s.st.ensureAccount(owner, ""), name, s.now())
	}
	return rp, actor
}

func (s *Server) commentJSON(c *comment) map[string]any {
	api := fmt.Sprintf("%s/repos/%s/%s", s.URL, c.Owner, c.Repo)
	return map[string]any{
		"id":                       c.ID,
		"node_id":                  nodeID("IC_", c.ID),
		"url":                      fmt.Sprintf("%s/issues/comments/%d", api, c.ID),
		"html_url":                 fmt.Sprintf("%s/%s/%s/issues/%d#issuecomment-%d", s.URL, c.Owner, c.Repo, c.Issue, c.ID),
		"issue_url":                fmt.Sprintf("%s/issues/%d", api, c.Issue),
		"body":                     c.Body,
		"user":                     s.userJSON(c.Actor),
		"created_at":               ts(c.Created),
		"updated_at":               ts(c.Updated),
		"author_association":       "NONE",
		"performed_via_github_app": nil,
	}
}

// issueTarget is commentTarget and the issue number in the path; on failure
// it writes the 4xx and returns a nil repository.
func (s *Server) issueTarget(w http.ResponseWriter, r *http.Request, write bool) (*repo, *account, int) {
	rp, actor := s.commentTarget(w, r, write)
	if rp == nil {
		return nil, nil, 0
	}
	n, err := strconv.Atoi(r.PathValue("issue_number"))
	if err != nil || n <= 0 {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil, nil, 0
	}
	return rp, actor, n
}

// existingComment is commentTarget (for a write) and the comment the path
// names; on failure it writes the 4xx and returns nil.
func (s *Server) existingComment(w http.ResponseWriter, r *http.Request) *comment {
	rp, _ := s.commentTarget(w, r, true)
	if rp == nil {
		return nil
	}
	c := s.findComment(r, rp)
	if c == nil {
		writeError(w, http.StatusNotFound, "Not Found")
	}
	return c
}

func (s *Server) handleListComments(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, _, n := s.issueTarget(w, r, false)
	if rp == nil {
		return
	}
	all := s.st.issueComments(rp.Owner.Login, rp.Name, n)
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err := time.Parse(time.RFC3339, v); err == nil {
			var kept []*comment
			for _, c := range all {
				if !c.Updated.Before(since) {
					kept = append(kept, c)
				}
			}
			all = kept
		}
	}
	p := s.pageOf(r, len(all))
	items := []map[string]any{}
	for _, c := range all[p.lo:p.hi] {
		items = append(items, s.commentJSON(c))
	}
	p.setLink(w, r)
	writeJSON(w, http.StatusOK, items)
}

type commentRequest struct {
	Body *string `json:"body"`
}

// readCommentBody decodes and checks {"body": ...}; on failure it writes the
// 4xx and returns false.
func readCommentBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req commentRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return "", false
	}
	if req.Body == nil {
		writeValidation(w, "Invalid request.\n\n\"body\" wasn't supplied.")
		return "", false
	}
	if strings.TrimSpace(*req.Body) == "" {
		writeValidation(w, "Validation Failed", fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field", Message: msgCommentBodyBlank})
		return "", false
	}
	if utf8.RuneCountInString(*req.Body) > maxCommentLen {
		writeValidation(w, "Validation Failed", fieldError{Resource: "IssueComment", Field: "body", Code: "custom", Message: msgCommentTooLong})
		return "", false
	}
	return *req.Body, true
}

func (s *Server) handleCreateComment(w http.ResponseWriter, r *http.Request) {
	body, ok := readCommentBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, actor, n := s.issueTarget(w, r, true)
	if rp == nil {
		return
	}
	c := s.addCommentLocked(rp, n, actor, body)
	out := s.commentJSON(c)
	w.Header().Set("Location", out["url"].(string))
	writeJSON(w, http.StatusCreated, out)
}

// findComment returns the comment with the path's comment_id in the
// repository, or nil.
func (s *Server) findComment(r *http.Request, rp *repo) *comment {
	id, err := strconv.ParseInt(r.PathValue("comment_id"), 10, 64)
	if err != nil {
		return nil
	}
	for _, c := range s.st.comments {
		if c.ID == id && c.Owner == rp.Owner.Login && c.Repo == rp.Name {
			return c
		}
	}
	return nil
}

func (s *Server) handleUpdateComment(w http.ResponseWriter, r *http.Request) {
	body, ok := readCommentBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.existingComment(w, r)
	if c == nil {
		return
	}
	c.Body, c.Updated = body, s.now()
	writeJSON(w, http.StatusOK, s.commentJSON(c))
}

func (s *Server) handleDeleteComment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.existingComment(w, r)
	if c == nil {
		return
	}
	for i, have := range s.st.comments {
		if have == c {
			s.st.comments = append(s.st.comments[:i:i], s.st.comments[i+1:]...)
			break
		}
	}
	w.Header().Del("Content-Type")
	w.WriteHeader(http.StatusNoContent)
}
