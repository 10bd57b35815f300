package githubapp

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWT timing. GitHub rejects App JWTs that expire more than 10 minutes after
// they were issued; iat is back-dated to tolerate a clock running ahead of
// GitHub's.
const (
	JWTBackdate = 60 * time.Second
	JWTLifetime = 5 * time.Minute
)

// Signer signs App JWT claims. NewRSASigner signs with a key in memory; other
// implementations may sign elsewhere (a KMS key, an HSM).
type Signer interface {
	Sign(claims jwt.Claims) (string, error)
}

// NewRSASigner returns a Signer that signs RS256 with key.
func NewRSASigner(key *rsa.PrivateKey) Signer { return rsaSigner{key: key} }

type rsaSigner struct{ key *rsa.PrivateKey }

func (s rsaSigner) Sign(claims jwt.Claims) (string, error) {
	if s.key == nil {
		return "", errors.New("sign the App JWT: no private key")
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("RS256: %w", err)
	}
	return tok, nil
}

// String keeps the key out of %v.
func (s rsaSigner) String() string   { return "RS256 signer (key redacted)" }
func (s rsaSigner) GoString() string { return s.String() }

// AppAuth authenticates as the GitHub App itself.
type AppAuth struct {
	ClientID string           // the App's client ID (Iv1.…); GitHub also accepts the numeric App ID
	Signer   Signer           // signs the JWT with the App's private key
	Now      func() time.Time // nil: time.Now
}

// JWT returns an RS256 App JWT: iss = ClientID, iat = now − 60 s,
// exp = now + 5 min.
func (a AppAuth) JWT() (string, error) {
	if a.ClientID == "" {
		return "", &jwtError{msg: "no App client ID configured (github.appClientId in km.yaml)"}
	}
	if a.Signer == nil {
		return "", &jwtError{msg: "no App private key configured (github.privateKeyFile in km.yaml)"}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	t := now().Truncate(time.Second)
	tok, err := a.Signer.Sign(jwt.RegisteredClaims{
		Issuer:    a.ClientID,
		IssuedAt:  jwt.NewNumericDate(t.Add(-JWTBackdate)),
		ExpiresAt: jwt.NewNumericDate(t.Add(JWTLifetime)),
	})
	if err != nil {
		return "", &jwtError{msg: "signing failed", err: err}
	}
	return tok, nil
}

// jwtError is a failure to produce the App JWT; no request was sent.
type jwtError struct {
	msg string
	err error
}

func (e *jwtError) Error() string {
	if e.err != nil {
		return Redact("cannot sign the App JWT: " + e.msg + ": " + e.err.Error())
	}
	return "cannot sign the App JWT: " + e.msg
}

func (e *jwtError) Unwrap() error { return e.err }
