package sandboxtoken

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/state"
)

// Token is one minted token to store.
type Minted struct {
	Parameter string
	KeyAlias  string
	Token     githubapp.Token
	Meta      Meta // ExpiresAt and TokenSHA are filled from Token
	Prefix    string
}

// SHA is the short audit hash of a token (never the token): the first 12 hex
// characters of its SHA-256.
func SHA(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])[:12]
}

// Putter is the SSM call Write makes (*state.AWS implements it).
type Putter interface {
	PutParameter(ctx context.Context, in state.PutParameterInput) (int64, error)
}

// Write stores a minted token as a SecureString encrypted with the sandbox
// key, Overwrite, with the metadata km plan reads in the description and
// km's tags. It refuses an empty token.
func Write(ctx context.Context, ssm Putter, sandbox string, w Minted) error {
	_, err := WriteVersion(ctx, ssm, sandbox, w)
	return err
}

// WriteVersion is Write that returns the parameter version written.
func WriteVersion(ctx context.Context, ssm Putter, sandbox string, w Minted) (int64, error) {
	if w.Token.Value == "" {
		return 0, fmt.Errorf("refusing to write an empty token to %s", w.Parameter)
	}
	w.Meta.ExpiresAt = w.Token.ExpiresAt.UTC()
	w.Meta.Prefix = w.Prefix
	w.Meta.TokenSHA = SHA(w.Token.Value)
	v, err := ssm.PutParameter(ctx, state.PutParameterInput{
		Name: w.Parameter, Type: "SecureString", Value: w.Token.Value, KeyID: w.KeyAlias,
		Description: w.Meta.Encode(), Overwrite: true,
		Tags: map[string]string{names.TagManaged: "true", names.TagSandbox: sandbox, names.TagPrefix: w.Prefix},
	})
	if err != nil {
		return v, fmt.Errorf("writing the token of sandbox %s to %s: %w", sandbox, w.Parameter, err)
	}
	return v, nil
}
