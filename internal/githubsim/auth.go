package githubsim

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	maxJWTLifetime = 10 * time.Minute
	jwtClockSkew   = 60 * time.Second
)

// GitHub's messages for rejected App JWTs.
const (
	msgJWTDecode    = "A JSON web token could not be decoded"
	msgJWTIat       = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgJWTExp       = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTExpTooFar = "'Expiration time' claim ('exp') is too far in the future"
	msgJWTIss       = "'Issuer' claim ('iss') must be the App's client ID or App ID"
	msgNoApp        = "Integration not found"
	msgBadCreds     = "Bad credentials"
	msgNeedsAuth    = "Requires authentication"
)

// credentials returns the credential of an "Authorization: Bearer X" or
// "Authorization: token X" header ("" if none).
func credentials(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return ""
	}
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return strings.TrimSpace(cred)
	}
	return ""
}

// requireJWT authenticates the request as the App; on failure it writes the
// 401 and returns nil.
func (s *Server) requireJWT(w http.ResponseWriter, r *http.Request) *appState {
	cred := credentials(r)
	if cred == "" {
		writeError(w, http.StatusUnauthorized, msgNeedsAuth)
		return nil
	}
	app, msg := s.verifyJWT(cred)
	if app == nil {
		writeError(w, http.StatusUnauthorized, msg)
		return nil
	}
	return app
}

// verifyJWT checks an App JWT as GitHub does: RS256 signed by one of the
// App's keys, iss the client ID or App ID, iat and exp present, at most ten
// minutes apart, not expired and iat not more than 60s in the future.
func (s *Server) verifyJWT(tok string) (*appState, string) {
	s.mu.Lock()
	app := s.st.app
	var keys []jwt.VerificationKey
	if app != nil {
		for _, k := range app.keys {
			keys = append(keys, &k.PublicKey)
		}
	}
	s.mu.Unlock()
	if app == nil {
		return nil, msgNoApp
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims,
		func(*jwt.Token) (any, error) { return jwt.VerificationKeySet{Keys: keys}, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil, msgJWTDecode
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return nil, msgJWTIat
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return nil, msgJWTExp
	}
	now := s.now()
	if iat.After(now.Add(jwtClockSkew)) {
		return nil, msgJWTIat
	}
	if exp.Sub(iat.Time) > maxJWTLifetime {
		return nil, msgJWTExpTooFar
	}
	if !now.Before(exp.Time) {
		return nil, msgJWTExp
	}
	var iss string
	switch v := claims["iss"].(type) {
	case string:
		iss = v
	case float64:
		iss = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if iss == "" || (iss != app.ClientID && iss != strconv.FormatInt(app.ID, 10)) {
		return nil, msgJWTIss
	}
	return app, ""
}

// tokenAuth is an authenticated installation token.
type tokenAuth struct {
	tok  *IssuedToken
	inst *installation
}

// requireToken authenticates an installation token; on failure it writes the
// answer (401 for unknown, expired or revoked tokens, 403 for a suspended
// installation) and returns ok=false.
func (s *Server) requireToken(w http.ResponseWriter, r *http.Request) (tokenAuth, bool) {
	cred := credentials(r)
	if cred == "" {
		writeError(w, http.StatusUnauthorized, msgNeedsAuth)
		return tokenAuth{}, false
	}
	s.mu.Lock()
	ta, status := s.lookupLiveToken(cred)
	s.mu.Unlock()
	switch status {
	case http.StatusOK:
		return ta, true
	case http.StatusForbidden:
		writeError(w, status, msgSuspended)
	default:
		writeError(w, http.StatusUnauthorized, msgBadCreds)
	}
	return tokenAuth{}, false
}

// lookupLiveToken finds a usable token: 200 if live, 403 if its installation
// is suspended, 401 otherwise. Callers hold s.mu.
func (s *Server) lookupLiveToken(cred string) (tokenAuth, int) {
	t, ok := s.st.tokens[cred]
	if !ok || t.Revoked || !s.now().Before(t.ExpiresAt) {
		return tokenAuth{}, http.StatusUnauthorized
	}
	in := s.st.liveInstallation(t.InstallationID)
	if in == nil {
		return tokenAuth{}, http.StatusUnauthorized
	}
	if in.SuspendedAt != nil {
		return tokenAuth{}, http.StatusForbidden
	}
	return tokenAuth{tok: t, inst: in}, http.StatusOK
}
