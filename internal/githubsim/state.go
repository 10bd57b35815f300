package githubsim

import (
	"crypto/rsa"
	"sort"
	"strings"
	"time"
)

// state is everything the simulator knows; guarded by Server.mu.
type state struct {
	ids idCounters

	app   *appState
	codes map[string]*manifestCode

	accounts      map[string]*account // by lower-case login
	repos         map[string]*repo    // by lower-case "owner/name"
	installations map[int64]*installation
	tokens        map[string]*IssuedToken
	tokenOrder    []string
	manifests     []map[string]any

	comments     []*comment
	commentToken string

	failures         []*failRule
	requests         []Request
	validationErrors []string
	apiCalls         int
}

// idCounters hand out deterministic ids, one range per kind of object.
type idCounters struct {
	app, account, repo, installation, comment int64
}

func (c *idCounters) next(p *int64, base int64) int64 {
	if *p == 0 {
		*p = base
	}
	*p++
	return *p
}

func newState() state {
	return state{
		codes:         map[string]*manifestCode{},
		accounts:      map[string]*account{},
		repos:         map[string]*repo{},
		installations: map[int64]*installation{},
		tokens:        map[string]*IssuedToken{},
	}
}

type account struct {
	Login string
	ID    int64
	Type  string // User, Organization or Bot
}

type repo struct {
	ID      int64
	Owner   *account
	Name    string
	Created time.Time
	OnDisk  bool
}

func (r *repo) fullName() string { return r.Owner.Login + "/" + r.Name }

type installation struct {
	ID          int64
	Account     *account
	Repos       []string // canonical short names; nil = all repositories of the account
	Perms       map[string]string
	Created     time.Time
	Updated     time.Time
	SuspendedAt *time.Time
	Removed     bool
}

type appState struct {
	App
	OwnerAccount  *account
	NodeID        string
	Description   string
	ExternalURL   string
	Public        bool
	Permissions   map[string]string
	Events        []string
	RedirectURL   string
	ClientSecret  string
	WebhookSecret *string
	Created       time.Time
	keys          []*rsa.PrivateKey
}

type comment struct {
	Comment
	Owner string // canonical owner login
	Repo  string // canonical repo name
	Issue int
	Actor *account
}

func repoKey(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// ensureAccount returns the account with this login, creating it if needed.
// An explicit accountType replaces the stored one.
func (st *state) ensureAccount(login, accountType string) *account {
	key := strings.ToLower(login)
	if a, ok := st.accounts[key]; ok {
		if accountType != "" {
			a.Type = accountType
		}
		return a
	}
	if accountType == "" {
		accountType = "User"
	}
	a := &account{Login: login, ID: st.ids.next(&st.ids.account, 4_000_000), Type: accountType}
	st.accounts[key] = a
	return a
}

// ensureRepo returns the repository owner/name known to the API, creating it
// (without a git repository on disk) if needed.
func (st *state) ensureRepo(owner *account, name string, now time.Time) *repo {
	key := repoKey(owner.Login, name)
	if r, ok := st.repos[key]; ok {
		return r
	}
	r := &repo{ID: st.ids.next(&st.ids.repo, 3_000_000), Owner: owner, Name: name, Created: now}
	st.repos[key] = r
	return r
}

func (st *state) findRepo(owner, name string) *repo {
	return st.repos[repoKey(owner, strings.TrimSuffix(name, ".git"))]
}

// liveInstallation returns the installation unless it is unknown or removed.
func (st *state) liveInstallation(id int64) *installation {
	in, ok := st.installations[id]
	if !ok || in.Removed {
		return nil
	}
	return in
}

// installationsSorted returns the installations that are not removed, by id.
func (st *state) installationsSorted() []*installation {
	var out []*installation
	for _, in := range st.installations {
		if !in.Removed {
			out = append(out, in)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// accountInstallation returns the newest live installation on the account.
func (st *state) accountInstallation(login string) *installation {
	var found *installation
	for _, in := range st.installationsSorted() {
		if strings.EqualFold(in.Account.Login, login) {
			found = in
		}
	}
	return found
}

// installationRepos lists the repositories an installation can reach, by id.
func (st *state) installationRepos(in *installation) []*repo {
	var out []*repo
	if in.Repos == nil {
		for _, r := range st.repos {
			if r.Owner == in.Account {
				out = append(out, r)
			}
		}
	} else {
		for _, name := range in.Repos {
			if r := st.findRepo(in.Account.Login, name); r != nil {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// installationHasRepo reports whether the installation covers the repository.
func (st *state) installationHasRepo(in *installation, r *repo) bool {
	if r.Owner != in.Account {
		return false
	}
	if in.Repos == nil {
		return true
	}
	return containsFold(in.Repos, r.Name)
}

// tokenRepos lists the repositories a token reaches now: its own selection
// intersected with what the installation still covers.
func (st *state) tokenRepos(t *IssuedToken, in *installation) []*repo {
	var out []*repo
	for _, r := range st.installationRepos(in) {
		if t.Repositories == nil || containsFold(t.Repositories, r.Name) {
			out = append(out, r)
		}
	}
	return out
}

// tokenCovers reports whether a token may reach the repository now.
func (st *state) tokenCovers(t *IssuedToken, in *installation, r *repo) bool {
	if !st.installationHasRepo(in, r) {
		return false
	}
	return t.Repositories == nil || containsFold(t.Repositories, r.Name)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func copyPerms(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
