package githubsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

const manifestCodeTTL = time.Hour

type manifestCode struct {
	app     *appState
	pem     []byte
	expires time.Time
	used    bool
}

// Manifests returns the App manifests received by /settings/apps/new and
// /organizations/{org}/settings/apps/new, oldest first.
func (s *Server) Manifests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.st.manifests))
	for _, m := range s.st.manifests {
		out = append(out, cloneJSONMap(m))
	}
	return out
}

func cloneJSONMap(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

// manifest is the part of a GitHub App manifest the simulator uses.
type manifest struct {
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	Description        string            `json:"description"`
	Public             bool              `json:"public"`
	RedirectURL        string            `json:"redirect_url"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// handleManifest is the web side of the manifest flow: the user "confirms"
// at once, the App is created, and the browser is sent to
// redirect_url?code=CODE&state=STATE.
func (s *Server) handleManifest(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form: "+err.Error(), http.StatusBadRequest)
		return
	}
	raw := r.Form.Get("manifest")
	state := r.URL.Query().Get("state")
	if state == "" {
		state = r.Form.Get("state")
	}
	var generic map[string]any
	var m manifest
	if raw == "" || json.Unmarshal([]byte(raw), &generic) != nil || json.Unmarshal([]byte(raw), &m) != nil {
		http.Error(w, "Invalid GitHub App configuration: the manifest form field must hold a JSON object", http.StatusUnprocessableEntity)
		return
	}
	s.mu.Lock()
	s.st.manifests = append(s.st.manifests, generic)
	s.mu.Unlock()
	if m.URL == "" {
		http.Error(w, "Invalid GitHub App configuration: url can't be blank", http.StatusUnprocessableEntity)
		return
	}
	if m.Name == "" {
		m.Name = "sim-app"
	}
	var target *url.URL
	if m.RedirectURL != "" {
		u, err := url.Parse(m.RedirectURL)
		if err != nil || !u.IsAbs() {
			http.Error(w, "Invalid GitHub App configuration: redirect_url must be an absolute URL", http.StatusUnprocessableEntity)
			return
		}
		target = u
	}

	s.mu.Lock()
	var owner *account
	if org := r.PathValue("org"); org != "" {
		owner = s.st.ensureAccount(org, "Organization")
	} else {
		owner = s.st.ensureAccount(s.cfg.webUser, "")
	}
	s.mu.Unlock()
	app, pemBytes, err := s.createApp(appSpec{
		Name: m.Name, Owner: owner, Description: m.Description, ExternalURL: m.URL,
		Public: m.Public, Permissions: m.DefaultPermissions, Events: m.DefaultEvents,
		RedirectURL: m.RedirectURL,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	code, err := randomHex(10)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.st.codes[code] = &manifestCode{app: app, pem: pemBytes, expires: s.now().Add(manifestCodeTTL)}
	s.mu.Unlock()

	if target == nil {
		target, _ = url.Parse(s.URL + "/apps/" + app.Slug)
	}
	q := target.Query()
	q.Set("code", code)
	if state != "" {
		q.Set("state", state)
	}
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// handleConversion is POST /app-manifests/{code}/conversions: it trades a
// single-use code (valid one hour) for the App's credentials.
func (s *Server) handleConversion(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.st.codes[r.PathValue("code")]
	if !ok || c.used || !s.now().Before(c.expires) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	c.used = true
	body := s.appJSON(c.app, len(s.st.installationsSorted()))
	s.mu.Unlock()
	body["client_secret"] = c.app.ClientSecret
	body["webhook_secret"] = c.app.WebhookSecret
	body["pem"] = string(c.pem)
	writeJSON(w, http.StatusCreated, body)
}
