package githubapp

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAppAuthJWT(t *testing.T) {
	key := newRSAKey(t)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	auth := AppAuth{ClientID: "Iv1.abc123", Signer: NewRSASigner(key), Now: func() time.Time { return now.Add(400 * time.Millisecond) }}

	signed, err := auth.JWT()
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(signed, &claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("GitHub-side verification fails: %v", err)
	}
	if tok.Header["alg"] != "RS256" {
		t.Errorf("alg = %v", tok.Header["alg"])
	}
	if claims.Issuer != "Iv1.abc123" {
		t.Errorf("iss = %q", claims.Issuer)
	}
	if got := claims.IssuedAt.Time; !got.Equal(now.Add(-60 * time.Second)) {
		t.Errorf("iat = %v, want now-60s", got)
	}
	if got := claims.ExpiresAt.Time; !got.Equal(now.Add(5 * time.Minute)) {
		t.Errorf("exp = %v, want now+5m", got)
	}
	if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life > 10*time.Minute {
		t.Errorf("exp-iat = %v, GitHub refuses more than 10 minutes", life)
	}

	// Another key cannot verify it.
	other := newRSAKey(t)
	if _, err := jwt.Parse(signed, func(*jwt.Token) (any, error) { return &other.PublicKey, nil },
		jwt.WithTimeFunc(func() time.Time { return now })); err == nil {
		t.Error("JWT verifies with a different key")
	}
}

func TestAppAuthJWTErrors(t *testing.T) {
	key := newRSAKey(t)
	tests := []struct {
		name string
		auth AppAuth
		want string
	}{
		{"no client id", AppAuth{Signer: NewRSASigner(key)}, "github.appClientId"},
		{"no signer", AppAuth{ClientID: "Iv1.x"}, "github.privateKeyFile"},
		{"nil key", AppAuth{ClientID: "Iv1.x", Signer: NewRSASigner(nil)}, "no private key"},
		{"failing signer", AppAuth{ClientID: "Iv1.x", Signer: failingSigner{}}, "signing failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.auth.JWT()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("JWT() error = %v, want it to mention %q", err, tt.want)
			}
			var je *jwtError
			if !errors.As(err, &je) {
				t.Errorf("error is %T, want *jwtError", err)
			}
		})
	}
}

type failingSigner struct{}

func (failingSigner) Sign(jwt.Claims) (string, error) { return "", errors.New("hsm offline") }

func TestSignerDoesNotPrintKey(t *testing.T) {
	key := newRSAKey(t)
	s := NewRSASigner(key)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, s)
		if strings.Contains(out, key.D.String()[:20]) || strings.Contains(out, key.N.String()[:20]) {
			t.Errorf("%s of the signer prints the key: %s", f, out)
		}
	}
}
