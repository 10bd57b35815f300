package githubsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// App is the GitHub App the simulator knows (one per server).
type App struct {
	ID       int64
	Slug     string
	Name     string
	ClientID string
	Owner    string // login of the owning user or organization
}

// appSpec is what creating an App needs (from CreateApp or a manifest).
type appSpec struct {
	Name        string
	Owner       *account
	Description string
	ExternalURL string
	Public      bool
	Permissions map[string]string
	Events      []string
	RedirectURL string
}

// CreateApp creates the server's App owned by the web user (see
// WithWebUser) with permissions contents: write, metadata: read, issues:
// write, pull_requests: write, and returns it with its private key (PKCS#1
// PEM). A later call (or a manifest) replaces the App; installations stay.
func (s *Server) CreateApp(name string) (App, []byte, error) {
	if strings.TrimSpace(name) == "" {
		return App{}, nil, errors.New("githubsim: CreateApp needs a name")
	}
	s.mu.Lock()
	owner := s.st.ensureAccount(s.cfg.webUser, "")
	s.mu.Unlock()
	app, pemBytes, err := s.createApp(appSpec{
		Name: name, Owner: owner, ExternalURL: "https://example.com/" + slugify(name),
		Permissions: defaultAppPermissions(),
	})
	if err != nil {
		return App{}, nil, err
	}
	return app.App, pemBytes, nil
}

func defaultAppPermissions() map[string]string {
	return map[string]string{"contents": "write", "metadata": "read", "issues": "write", "pull_requests": "write"}
}

func (s *Server) createApp(spec appSpec) (*appState, []byte, error) {
	key, pemBytes, err := newKey(s.cfg.keyBits)
	if err != nil {
		return nil, nil, err
	}
	secret, err := randomHex(20)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.st.ids.next(&s.st.ids.app, 100_000)
	app := &appState{
		App: App{
			ID: id, Slug: slugify(spec.Name), Name: spec.Name,
			ClientID: fmt.Sprintf("Iv1.%016x", uint64(id)*0x9E3779B97F4A7C15),
			Owner:    spec.Owner.Login,
		},
		OwnerAccount: spec.Owner,
		NodeID:       nodeID("A_", id),
		Description:  spec.Description,
		ExternalURL:  spec.ExternalURL,
		Public:       spec.Public,
		Permissions:  copyPerms(spec.Permissions),
		Events:       append([]string(nil), spec.Events...),
		RedirectURL:  spec.RedirectURL,
		ClientSecret: secret,
		Created:      s.now(),
		keys:         []*rsa.PrivateKey{key},
	}
	if app.Permissions == nil {
		app.Permissions = map[string]string{}
	}
	s.st.app = app
	return app, pemBytes, nil
}

// App returns the server's App (the zero App before CreateApp or a manifest).
func (s *Server) App() App {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.app == nil {
		return App{}
	}
	return s.st.app.App
}

// AddAppKey adds a private key to the App, as when rotating keys on GitHub;
// every current key is accepted for JWTs. It returns the new PKCS#1 PEM.
func (s *Server) AddAppKey() ([]byte, error) {
	key, pemBytes, err := newKey(s.cfg.keyBits)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.app == nil {
		return nil, errors.New("githubsim: AddAppKey: no App yet (call CreateApp first)")
	}
	s.st.app.keys = append(s.st.app.keys, key)
	return pemBytes, nil
}

// RemoveAppKey removes the App key whose private key is given (PKCS#1 or
// PKCS#8 PEM); JWTs signed with it are rejected from then on.
func (s *Server) RemoveAppKey(pemBytes []byte) error {
	pub, err := parsePublicFromPrivatePEM(pemBytes)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.app == nil {
		return errors.New("githubsim: RemoveAppKey: no App yet")
	}
	keys := s.st.app.keys
	for i, k := range keys {
		if k.PublicKey.Equal(pub) {
			s.st.app.keys = append(keys[:i:i], keys[i+1:]...)
			return nil
		}
	}
	return errors.New("githubsim: RemoveAppKey: the key is not one of the App's keys")
}

func parsePublicFromPrivatePEM(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("githubsim: private key is not PEM encoded")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return &k.PublicKey, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("githubsim: private key PEM holds neither a PKCS#1 nor a PKCS#8 key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("githubsim: private key is not an RSA key")
	}
	return &rk.PublicKey, nil
}

func newKey(bits int) (*rsa.PrivateKey, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, fmt.Errorf("githubsim: generate App key: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return key, pemBytes, nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slugify(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if s == "" {
		return "app"
	}
	return s
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("githubsim: random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}
