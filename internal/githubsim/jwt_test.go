package githubsim_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAppJWT(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	_, otherPEM, err := newFixture(t).sim.CreateApp("other")
	if err != nil {
		t.Fatal(err)
	}
	claims := func(iss any, iat, exp time.Duration) jwt.MapClaims {
		return jwt.MapClaims{"iss": iss, "iat": now.Add(iat).Unix(), "exp": now.Add(exp).Unix()}
	}
	tests := []struct {
		name    string
		token   string
		status  int
		message string
	}{
		{"client id issuer", signJWT(t, f.pem, claims(f.app.ClientID, -time.Minute, 9*time.Minute)), 200, ""},
		{"app id string issuer", signJWT(t, f.pem, claims(strconv.FormatInt(f.app.ID, 10), 0, 10*time.Minute)), 200, ""},
		{"app id number issuer", signJWT(t, f.pem, claims(f.app.ID, 0, 5*time.Minute)), 200, ""},
		{"iat 50s ahead (clock skew)", signJWT(t, f.pem, claims(f.app.ClientID, 50*time.Second, 5*time.Minute)), 200, ""},
		{"wrong key", signJWT(t, otherPEM, claims(f.app.ClientID, 0, 5*time.Minute)), 401, "could not be decoded"},
		{"expired", signJWT(t, f.pem, claims(f.app.ClientID, -11*time.Minute, -time.Minute)), 401, "'exp'"},
		{"exp exactly now", signJWT(t, f.pem, claims(f.app.ClientID, -5*time.Minute, 0)), 401, "'exp'"},
		{"exp too far", signJWT(t, f.pem, claims(f.app.ClientID, 0, 10*time.Minute+time.Second)), 401, "too far in the future"},
		{"iat too far ahead", signJWT(t, f.pem, claims(f.app.ClientID, 2*time.Minute, 5*time.Minute)), 401, "'iat'"},
		{"wrong issuer", signJWT(t, f.pem, claims("Iv1.someoneelse", 0, 5*time.Minute)), 401, "'iss'"},
		{"no issuer", signJWT(t, f.pem, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}), 401, "'iss'"},
		{"no exp", signJWT(t, f.pem, jwt.MapClaims{"iss": f.app.ClientID, "iat": now.Unix()}), 401, "'exp'"},
		{"no iat", signJWT(t, f.pem, jwt.MapClaims{"iss": f.app.ClientID, "exp": now.Add(time.Minute).Unix()}), 401, "'iat'"},
		{"HS256", hs256(t, claims(f.app.ClientID, 0, time.Minute)), 401, "could not be decoded"},
		{"garbage", "not-a-jwt", 401, "could not be decoded"},
		{"installation token", "ghs_0123456789abcdefghijklmnopqrstuvwxyz", 401, "could not be decoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.call("GET", "/app", bearer(tt.token), nil)
			wantStatus(t, tt.name, res, tt.status)
			if tt.status != 200 {
				msg := res.message(t)
				if !strings.Contains(msg, tt.message) {
					t.Errorf("message %q, want it to contain %q", msg, tt.message)
				}
				if strings.Contains(string(res.Body), tt.token) {
					t.Errorf("error body echoes the credential")
				}
				return
			}
			app := res.object(t)
			if app["id"] != float64(f.app.ID) || app["slug"] != f.app.Slug || app["client_id"] != f.app.ClientID {
				t.Errorf("GET /app = %v, want the App %+v", app, f.app)
			}
		})
	}
	t.Run("no credentials", func(t *testing.T) {
		res := f.call("GET", "/app", "", nil)
		wantStatus(t, "GET /app without auth", res, http.StatusUnauthorized)
	})
	t.Run("token scheme", func(t *testing.T) {
		wantStatus(t, "token scheme", f.call("GET", "/app", "token "+f.jwt(), nil), http.StatusOK)
	})
}

func hs256(t *testing.T, c jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAppKeyRotation(t *testing.T) {
	f := newFixture(t)
	oldPEM := f.pem
	newPEM, err := f.sim.AddAppKey()
	if err != nil {
		t.Fatal(err)
	}
	sign := func(pem []byte) string {
		now := f.clock.Now()
		return signJWT(t, pem, jwt.MapClaims{"iss": f.app.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	}
	wantStatus(t, "old key while both exist", f.call("GET", "/app", bearer(sign(oldPEM)), nil), 200)
	wantStatus(t, "new key while both exist", f.call("GET", "/app", bearer(sign(newPEM)), nil), 200)

	if err := f.sim.RemoveAppKey(oldPEM); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "removed key", f.call("GET", "/app", bearer(sign(oldPEM)), nil), 401)
	wantStatus(t, "new key after removal", f.call("GET", "/app", bearer(sign(newPEM)), nil), 200)

	err = f.sim.RemoveAppKey(oldPEM)
	if err == nil {
		t.Fatal("removing a key twice succeeded")
	}
	body := string(oldPEM)
	body = body[strings.Index(body, "\n")+1 : strings.Index(body, "\n")+41]
	if strings.Contains(err.Error(), body) || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("RemoveAppKey error leaks the key: %v", err)
	}
	if err := f.sim.RemoveAppKey([]byte("not pem")); err == nil {
		t.Error("RemoveAppKey accepted garbage")
	}
}
