package githubsim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const msgSuspended = "This installation has been suspended"

// AddInstallation installs the App on an account ("User" or
// "Organization") and returns the installation id. repos are short names
// (nil selects all repositories of the account, GitHub's "all" selection);
// repositories not added yet become known to the API (without a git
// repository on disk; use AddRepo for that). perms are the installation's
// permissions (nil: contents: write, metadata: read).
func (s *Server) AddInstallation(accountLogin, accountType string, repos []string, perms map[string]string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	a := s.st.ensureAccount(accountLogin, accountType)
	in := &installation{
		ID: s.st.ids.next(&s.st.ids.installation, 20_000_000), Account: a,
		Perms: copyPerms(perms), Created: now, Updated: now,
	}
	if in.Perms == nil {
		in.Perms = map[string]string{"contents": "write", "metadata": "read"}
	}
	if repos != nil {
		in.Repos = []string{}
		for _, name := range repos {
			r := s.st.ensureRepo(a, name, now)
			if !containsFold(in.Repos, r.Name) {
				in.Repos = append(in.Repos, r.Name)
			}
		}
	}
	s.st.installations[in.ID] = in
	return in.ID
}

// SuspendInstallation suspends an installation: token requests get 403 and
// its tokens stop working.
func (s *Server) SuspendInstallation(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.st.liveInstallation(id); in != nil && in.SuspendedAt == nil {
		now := s.now()
		in.SuspendedAt, in.Updated = &now, now
	}
}

// UnsuspendInstallation lifts a suspension.
func (s *Server) UnsuspendInstallation(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.st.liveInstallation(id); in != nil {
		in.SuspendedAt, in.Updated = nil, s.now()
	}
}

// RemoveInstallation uninstalls the App from the account: the installation
// answers 404 and its tokens are revoked.
func (s *Server) RemoveInstallation(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.st.liveInstallation(id); in != nil {
		in.Removed = true
		s.revokeAllLocked(id)
	}
}

// RemoveRepoFromInstallation takes a repository out of the installation's
// selection (an "all" installation becomes "selected" with the others); live
// tokens lose access to it at once.
func (s *Server) RemoveRepoFromInstallation(id int64, repoName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.st.liveInstallation(id)
	if in == nil {
		return
	}
	if in.Repos == nil {
		in.Repos = []string{}
		for _, r := range s.st.installationRepos(in) {
			in.Repos = append(in.Repos, r.Name)
		}
	}
	kept := []string{}
	for _, n := range in.Repos {
		if !strings.EqualFold(n, repoName) {
			kept = append(kept, n)
		}
	}
	in.Repos, in.Updated = kept, s.now()
}

func (s *Server) handleGetApp(w http.ResponseWriter, r *http.Request) {
	app := s.requireJWT(w, r)
	if app == nil {
		return
	}
	s.mu.Lock()
	n := len(s.st.installationsSorted())
	body := s.appJSON(app, n)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleListInstallations(w http.ResponseWriter, r *http.Request) {
	app := s.requireJWT(w, r)
	if app == nil {
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeValidation(w, "Validation Failed", fieldError{Field: "since", Code: "invalid", Message: "since must be an ISO 8601 timestamp"})
			return
		}
		since = t
	}
	s.mu.Lock()
	var all []*installation
	for _, in := range s.st.installationsSorted() {
		if since.IsZero() || !in.Updated.Before(since) {
			all = append(all, in)
		}
	}
	p := s.pageOf(r, len(all))
	items := []map[string]any{}
	for _, in := range all[p.lo:p.hi] {
		items = append(items, s.installationJSON(in, app))
	}
	s.mu.Unlock()
	p.setLink(w, r)
	writeJSON(w, http.StatusOK, items)
}

func (s *Server) handleGetInstallation(w http.ResponseWriter, r *http.Request) {
	s.serveInstallation(w, r, func() *installation {
		id, err := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
		if err != nil {
			return nil
		}
		return s.st.liveInstallation(id)
	})
}

func (s *Server) handleOrgInstallation(w http.ResponseWriter, r *http.Request) {
	s.serveInstallation(w, r, func() *installation {
		in := s.st.accountInstallation(r.PathValue("org"))
		if in != nil && in.Account.Type != "Organization" {
			return nil
		}
		return in
	})
}

func (s *Server) handleUserInstallation(w http.ResponseWriter, r *http.Request) {
	s.serveInstallation(w, r, func() *installation { return s.st.accountInstallation(r.PathValue("username")) })
}

func (s *Server) handleRepoInstallation(w http.ResponseWriter, r *http.Request) {
	s.serveInstallation(w, r, func() *installation {
		var found *installation
		if rp := s.st.findRepo(r.PathValue("owner"), r.PathValue("repo")); rp != nil {
			for _, in := range s.st.installationsSorted() {
				if s.st.installationHasRepo(in, rp) {
					found = in
				}
			}
		}
		return found
	})
}

// serveInstallation answers one installation for an App's JWT: find runs
// under the lock and returns nil for 404.
func (s *Server) serveInstallation(w http.ResponseWriter, r *http.Request, find func() *installation) {
	app := s.requireJWT(w, r)
	if app == nil {
		return
	}
	s.mu.Lock()
	in := find()
	var body map[string]any
	if in != nil {
		body = s.installationJSON(in, app)
	}
	s.mu.Unlock()
	if in == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}
