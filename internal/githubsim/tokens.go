package githubsim

import (
	"crypto/rand"
	"math/big"
	"net/http"
	"strconv"
	"time"
)

// IssuedToken is an installation access token the simulator issued.
type IssuedToken struct {
	Token          string
	InstallationID int64
	Account        string   // login of the installation's account
	Repositories   []string // short names; nil = all repositories of the installation
	Permissions    map[string]string
	ExpiresAt      time.Time
	Revoked        bool
	IssuedAt       time.Time
}

const maxTokenRepos = 500

const (
	msgRepoNotAccessible = "There is at least one repository that does not exist or is not accessible to the parent installation."
	msgPermsNotGranted   = "The permissions requested are not granted to this installation."
	msgTooManyRepos      = "Too many repositories specified. The maximum is 500."
)

// Tokens returns every token issued, oldest first.
func (s *Server) Tokens() []IssuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]IssuedToken, 0, len(s.st.tokenOrder))
	for _, k := range s.st.tokenOrder {
		out = append(out, s.st.tokens[k].clone())
	}
	return out
}

// LookupToken returns the token with this value.
func (s *Server) LookupToken(tok string) (IssuedToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.tokens[tok]
	if !ok {
		return IssuedToken{}, false
	}
	return t.clone(), true
}

// TokenLive reports whether the token would be accepted now: known, not
// revoked, not expired, installation present and not suspended.
func (s *Server) TokenLive(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, status := s.lookupLiveToken(tok)
	return status == http.StatusOK
}

// RevokeAll revokes every token of the installation.
func (s *Server) RevokeAll(installationID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeAllLocked(installationID)
}

func (s *Server) revokeAllLocked(installationID int64) {
	for _, t := range s.st.tokens {
		if t.InstallationID == installationID {
			t.Revoked = true
		}
	}
}

func (t *IssuedToken) clone() IssuedToken {
	c := *t
	if t.Repositories != nil {
		c.Repositories = append([]string{}, t.Repositories...)
	}
	c.Permissions = copyPerms(t.Permissions)
	return c
}

type tokenRequest struct {
	Repositories  []string          `json:"repositories"`
	RepositoryIDs []int64           `json:"repository_ids"`
	Permissions   map[string]string `json:"permissions"`
}

// Permission levels, ordered.
const (
	levelNone = iota
	levelRead
	levelWrite
	levelAdmin
)

// permLevel orders GitHub permission levels ("" and unknown levels are
// levelNone).
func permLevel(level string) int {
	switch level {
	case "read":
		return levelRead
	case "write":
		return levelWrite
	case "admin":
		return levelAdmin
	}
	return levelNone
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	if s.requireJWT(w, r) == nil {
		return
	}
	id, idErr := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	var req tokenRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	value, err := newTokenValue()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Server Error")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var in *installation
	if idErr == nil {
		in = s.st.liveInstallation(id)
	}
	if in == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if in.SuspendedAt != nil {
		writeError(w, http.StatusForbidden, msgSuspended)
		return
	}
	if len(req.Repositories)+len(req.RepositoryIDs) > maxTokenRepos {
		writeValidation(w, msgTooManyRepos)
		return
	}
	scoped := req.Repositories != nil || req.RepositoryIDs != nil
	var repos []*repo
	add := func(rp *repo) {
		for _, have := range repos {
			if have == rp {
				return
			}
		}
		repos = append(repos, rp)
	}
	for _, name := range req.Repositories {
		rp := s.st.findRepo(in.Account.Login, name)
		if rp == nil || !s.st.installationHasRepo(in, rp) {
			writeValidation(w, msgRepoNotAccessible)
			return
		}
		add(rp)
	}
	for _, rid := range req.RepositoryIDs {
		var rp *repo
		for _, cand := range s.st.installationRepos(in) {
			if cand.ID == rid {
				rp = cand
			}
		}
		if rp == nil {
			writeValidation(w, msgRepoNotAccessible)
			return
		}
		add(rp)
	}
	perms := copyPerms(in.Perms)
	if len(req.Permissions) > 0 {
		for name, level := range req.Permissions {
			want, granted := permLevel(level), permLevel(in.Perms[name])
			if want == levelNone || granted == levelNone || want > granted {
				writeValidation(w, msgPermsNotGranted)
				return
			}
		}
		perms = copyPerms(req.Permissions)
	}

	now := s.now()
	t := &IssuedToken{
		Token: value, InstallationID: in.ID, Account: in.Account.Login,
		Permissions: perms, ExpiresAt: now.Add(s.cfg.tokenTTL), IssuedAt: now,
	}
	selection := "all"
	if in.Repos != nil || scoped {
		selection = "selected"
	}
	body := map[string]any{
		"token":                value,
		"expires_at":           ts(t.ExpiresAt),
		"permissions":          copyPerms(perms),
		"repository_selection": selection,
	}
	if scoped {
		t.Repositories = []string{}
		items := []map[string]any{}
		for _, rp := range repos {
			t.Repositories = append(t.Repositories, rp.Name)
			items = append(items, s.repoJSON(rp))
		}
		body["repositories"] = items
	}
	s.st.tokens[value] = t
	s.st.tokenOrder = append(s.st.tokenOrder, value)
	writeJSON(w, http.StatusCreated, body)
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newTokenValue returns "ghs_" followed by 36 random alphanumerics, the shape
// of GitHub installation tokens.
func newTokenValue() (string, error) {
	b := make([]byte, 36)
	max := big.NewInt(int64(len(tokenAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = tokenAlphabet[n.Int64()]
	}
	return "ghs_" + string(b), nil
}

func (s *Server) handleInstallationRepos(w http.ResponseWriter, r *http.Request) {
	ta, ok := s.requireToken(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	repos := s.st.tokenRepos(ta.tok, ta.inst)
	p := s.pageOf(r, len(repos))
	items := []map[string]any{}
	for _, rp := range repos[p.lo:p.hi] {
		items = append(items, s.repoJSON(rp))
	}
	selection := "all"
	if ta.inst.Repos != nil || ta.tok.Repositories != nil {
		selection = "selected"
	}
	s.mu.Unlock()
	p.setLink(w, r)
	writeJSON(w, http.StatusOK, map[string]any{
		"total_count":          len(repos),
		"repositories":         items,
		"repository_selection": selection,
	})
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	ta, ok := s.requireToken(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	ta.tok.Revoked = true
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
