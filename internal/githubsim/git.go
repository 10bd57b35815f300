package githubsim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

const (
	gitUser          = "x-access-token"
	serviceUpload    = "git-upload-pack"
	serviceReceive   = "git-receive-pack"
	maxGitBodyBuffer = 1 << 30
)

var gitPath = regexp.MustCompile(`^/[^/]+/[^/]+/(info/refs|git-upload-pack|git-receive-pack)$`)

func isGitPath(p string) bool { return gitPath.MatchString(p) }

// handleGit serves git smart HTTP with `git http-backend`, after checking the
// Basic credentials like GitHub: 401 (with a Basic challenge) without a live
// token, 404 when the token cannot see the repository, 403 when it can but
// lacks the contents permission the service needs.
func (s *Server) handleGit(w http.ResponseWriter, r *http.Request) {
	owner, name := r.PathValue("owner"), strings.TrimSuffix(r.PathValue("repo"), ".git")
	tail := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	service := tail
	if tail == "refs" {
		tail = "info/refs"
		service = r.URL.Query().Get("service")
	}
	if service != serviceUpload && service != serviceReceive {
		http.Error(w, "Only the smart HTTP protocol is supported", http.StatusForbidden)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != gitUser || pass == "" {
		challenge(w)
		return
	}
	s.mu.Lock()
	ta, status := s.lookupLiveToken(pass)
	rp := s.st.findRepo(owner, name)
	var canSee bool
	if status == http.StatusOK && rp != nil && rp.OnDisk {
		canSee = s.st.tokenCovers(ta.tok, ta.inst, rp)
	}
	var contents int
	var diskPath, fullName string
	if canSee {
		contents = permLevel(ta.tok.Permissions["contents"])
		fullName = rp.fullName()
		diskPath = "/" + fullName + ".git/" + tail
	}
	s.mu.Unlock()

	switch {
	case status == http.StatusForbidden:
		http.Error(w, msgSuspended, http.StatusForbidden)
		return
	case status != http.StatusOK:
		challenge(w)
		return
	case !canSee:
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	case service == serviceUpload && contents < levelRead,
		service == serviceReceive && contents < levelWrite:
		http.Error(w, "Permission to "+fullName+".git denied to "+gitUser+".", http.StatusForbidden)
		return
	}
	s.serveBackend(w, r, diskPath)
}

func challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
	http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
}

// serveBackend runs `git http-backend` as a CGI program for the canonical
// repository path.
func (s *Server) serveBackend(w http.ResponseWriter, r *http.Request, pathInfo string) {
	git, err := exec.LookPath("git")
	if err != nil {
		http.Error(w, "githubsim: git CLI not found", http.StatusInternalServerError)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = pathInfo, ""
	if len(r.TransferEncoding) > 0 {
		// net/http/cgi refuses chunked bodies (git streams large pushes):
		// buffer the body and pass its length.
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(r.Body, maxGitBodyBuffer)); err != nil {
			http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r2.Body = io.NopCloser(&buf)
		r2.ContentLength = int64(buf.Len())
		r2.TransferEncoding = nil
		r2.Header.Set("Content-Length", strconv.Itoa(buf.Len()))
	}
	env := append(s.gitEnv(),
		"GIT_PROJECT_ROOT="+s.gitRoot,
		"GIT_HTTP_EXPORT_ALL=1",
		"REMOTE_USER="+gitUser,
		"GIT_CONFIG_COUNT=2",
		"GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
		"GIT_CONFIG_KEY_1=http.uploadpack", "GIT_CONFIG_VALUE_1=true",
		"PATH="+os.Getenv("PATH"),
	)
	h := &cgi.Handler{
		Path:   git,
		Args:   []string{"http-backend"},
		Root:   "/",
		Dir:    s.gitRoot,
		Env:    env,
		Stderr: io.Discard,
	}
	h.ServeHTTP(w, r2)
}
