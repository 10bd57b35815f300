package githubsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "githubsim: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeErrorDoc(w, status, message, docsURL)
}

func writeErrorDoc(w http.ResponseWriter, status int, message, doc string) {
	writeJSON(w, status, map[string]any{
		"message":           message,
		"documentation_url": doc,
		"status":            strconv.Itoa(status),
	})
}

// fieldError is one entry of a 422 "errors" array.
type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeValidation(w http.ResponseWriter, message string, errs ...fieldError) {
	body := map[string]any{
		"message":           message,
		"documentation_url": docsURL,
		"status":            "422",
	}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, http.StatusUnprocessableEntity, body)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s%d", kind, id)))
}

func (s *Server) userJSON(a *account) map[string]any {
	u := s.URL + "/users/" + a.Login
	return map[string]any{
		"login":               a.Login,
		"id":                  a.ID,
		"node_id":             nodeID("U_", a.ID),
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d", s.URL, a.ID),
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            s.URL + "/" + a.Login,
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
		"type":                a.Type,
		"site_admin":          false,
		"user_view_type":      "public",
	}
}

func (s *Server) repoJSON(r *repo) map[string]any {
	api := s.URL + "/repos/" + r.fullName()
	html := s.URL + "/" + r.fullName()
	created := ts(r.Created)
	return map[string]any{
		"id": r.ID, "node_id": nodeID("R_", r.ID), "name": r.Name, "full_name": r.fullName(),
		"owner": s.userJSON(r.Owner), "private": true, "visibility": "private",
		"html_url": html, "description": nil, "fork": false, "url": api,
		"archive_url":       api + "/{archive_format}{/ref}",
		"assignees_url":     api + "/assignees{/user}",
		"blobs_url":         api + "/git/blobs{/sha}",
		"branches_url":      api + "/branches{/branch}",
		"collaborators_url": api + "/collaborators{/collaborator}",
		"comments_url":      api + "/comments{/number}",
		"commits_url":       api + "/commits{/sha}",
		"compare_url":       api + "/compare/{base}...{head}",
		"contents_url":      api + "/contents/{+path}",
		"contributors_url":  api + "/contributors",
		"deployments_url":   api + "/deployments",
		"downloads_url":     api + "/downloads",
		"events_url":        api + "/events",
		"forks_url":         api + "/forks",
		"git_commits_url":   api + "/git/commits{/sha}",
		"git_refs_url":      api + "/git/refs{/sha}",
		"git_tags_url":      api + "/git/tags{/sha}",
		"git_url":           "git:" + s.URL + "/" + r.fullName() + ".git",
		"issue_comment_url": api + "/issues/comments{/number}",
		"issue_events_url":  api + "/issues/events{/number}",
		"issues_url":        api + "/issues{/number}",
		"keys_url":          api + "/keys{/key_id}",
		"labels_url":        api + "/labels{/name}",
		"languages_url":     api + "/languages",
		"merges_url":        api + "/merges",
		"milestones_url":    api + "/milestones{/number}",
		"notifications_url": api + "/notifications{?since,all,participating}",
		"pulls_url":         api + "/pulls{/number}",
		"releases_url":      api + "/releases{/id}",
		"ssh_url":           "git@sim:" + r.fullName() + ".git",
		"stargazers_url":    api + "/stargazers",
		"statuses_url":      api + "/statuses/{sha}",
		"subscribers_url":   api + "/subscribers",
		"subscription_url":  api + "/subscription",
		"tags_url":          api + "/tags",
		"teams_url":         api + "/teams",
		"trees_url":         api + "/git/trees{/sha}",
		"hooks_url":         api + "/hooks",
		"clone_url":         html + ".git",
		"svn_url":           html,
		"mirror_url":        nil, "homepage": nil, "language": nil, "license": nil,
		"forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0,
		"size": 0, "default_branch": "main", "open_issues": 0, "open_issues_count": 0,
		"is_template": false, "topics": []string{},
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false,
		"has_downloads": false, "has_discussions": false, "archived": false, "disabled": false,
		"pushed_at": created, "created_at": created, "updated_at": created,
		"allow_forking": false, "web_commit_signoff_required": false,
	}
}

func (s *Server) installationJSON(in *installation, app *appState) map[string]any {
	selection := "all"
	if in.Repos != nil {
		selection = "selected"
	}
	htmlURL := fmt.Sprintf("%s/settings/installations/%d", s.URL, in.ID)
	if in.Account.Type == "Organization" {
		htmlURL = fmt.Sprintf("%s/organizations/%s/settings/installations/%d", s.URL, in.Account.Login, in.ID)
	}
	out := map[string]any{
		"id":                        in.ID,
		"account":                   s.userJSON(in.Account),
		"repository_selection":      selection,
		"access_tokens_url":         fmt.Sprintf("%s/app/installations/%d/access_tokens", s.URL, in.ID),
		"repositories_url":          s.URL + "/installation/repositories",
		"html_url":                  htmlURL,
		"target_id":                 in.Account.ID,
		"target_type":               in.Account.Type,
		"permissions":               copyPerms(in.Perms),
		"events":                    []string{},
		"created_at":                ts(in.Created),
		"updated_at":                ts(in.Updated),
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_by":              nil,
		"suspended_at":              nil,
		"app_id":                    int64(0),
		"app_slug":                  "",
		"client_id":                 "",
	}
	if app != nil {
		out["app_id"], out["app_slug"], out["client_id"] = app.ID, app.Slug, app.ClientID
		if app.Events != nil {
			out["events"] = append([]string{}, app.Events...)
		}
	}
	if in.SuspendedAt != nil {
		out["suspended_at"] = ts(*in.SuspendedAt)
		if app != nil {
			out["suspended_by"] = s.userJSON(app.OwnerAccount)
		}
	}
	return out
}

// appJSON renders the App as the "integration" schema.
func (s *Server) appJSON(app *appState, installations int) map[string]any {
	events := []string{}
	if app.Events != nil {
		events = append(events, app.Events...)
	}
	return map[string]any{
		"id":                  app.ID,
		"slug":                app.Slug,
		"node_id":             app.NodeID,
		"client_id":           app.ClientID,
		"owner":               s.userJSON(app.OwnerAccount),
		"name":                app.Name,
		"description":         app.Description,
		"external_url":        app.ExternalURL,
		"html_url":            s.URL + "/apps/" + app.Slug,
		"created_at":          ts(app.Created),
		"updated_at":          ts(app.Created),
		"permissions":         copyPerms(app.Permissions),
		"events":              events,
		"installations_count": installations,
	}
}

func setAPIHeaders(w http.ResponseWriter, rate map[string]string) {
	h := w.Header()
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	for k, v := range rate {
		h.Set(k, v)
	}
}

// decodeBody decodes an optional JSON request body; an empty body leaves v
// unchanged.
func decodeBody(r *http.Request, v any) error {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 10<<20)); err != nil {
		return err
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return nil
	}
	return json.Unmarshal(buf.Bytes(), v)
}
