package sandboxtoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klankermaker/km/internal/names"
	"github.com/klankermaker/km/state"
)

// Unrevoked records a token km retired but could not revoke at GitHub (the
// refresher was not reachable, or GitHub failed): it stays valid until it
// expires, and km list and km doctor show it until then. The record is an
// SSM String under names.UnrevokedPath() holding this JSON: a short hash
// and an expiry, never the token.
type Unrevoked struct {
	Sandbox   string `json:"sandbox_id"`
	Parameter string `json:"parameter"`
	// Version is the parameter version that held the token; FromVersion
	// is set when the record covers a range of older versions whose
	// tokens could not be read (their hashes are unknown).
	Version     int64     `json:"version"`
	FromVersion int64     `json:"from_version,omitempty"`
	TokenSHA    string    `json:"token_sha,omitempty"` // "" when unknown
	ExpiresAt   time.Time `json:"expires_at"`          // exact, or the latest it can expire
	Reason      string    `json:"reason"`
	RecordedAt  time.Time `json:"recorded_at"`
}

// Hash is the token's short hash, or a description of the versions when
// it is unknown.
func (u Unrevoked) Hash() string {
	if u.TokenSHA != "" {
		return u.TokenSHA
	}
	if u.FromVersion > 0 && u.FromVersion != u.Version {
		return fmt.Sprintf("(versions %d-%d, hash unknown)", u.FromVersion, u.Version)
	}
	return fmt.Sprintf("(version %d, hash unknown)", u.Version)
}

// String is the warning line km prints for the record.
func (u Unrevoked) String() string {
	return fmt.Sprintf("token %s of sandbox %s (%s) was retired but not revoked: %s; it stays valid until %s at the latest",
		u.Hash(), u.Sandbox, u.Parameter, u.Reason, u.ExpiresAt.UTC().Format(time.RFC3339))
}

// recordName is the record's parameter: one per token parameter version
// (or range), so recording twice overwrites.
func recordName(n names.Names, u Unrevoked) string {
	leaf := u.Parameter[strings.LastIndex(u.Parameter, "/")+1:]
	v := "v" + strconv.FormatInt(u.Version, 10)
	if u.FromVersion > 0 && u.FromVersion != u.Version {
		v = "v" + strconv.FormatInt(u.FromVersion, 10) + "-" + strconv.FormatInt(u.Version, 10)
	}
	return n.UnrevokedPath() + "/" + u.Sandbox + "/" + leaf + "-" + v
}

// RecordStore is what the records need from SSM (*state.AWS implements it).
type RecordStore interface {
	Putter
	DescribeParameters(ctx context.Context, path string) ([]state.Parameter, error)
	GetParameters(ctx context.Context, names []string, decrypt bool) (map[string]state.Parameter, error)
	DeleteParameter(ctx context.Context, name string) error
}

// RecordUnrevoked writes (or overwrites) the record of u.
func RecordUnrevoked(ctx context.Context, ssm Putter, n names.Names, u Unrevoked) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	name := recordName(n, u)
	_, err = ssm.PutParameter(ctx, state.PutParameterInput{
		Name: name, Type: "String", Value: string(b), Overwrite: true,
		Description: "km: a retired token that could not be revoked (hash and expiry only)",
		Tags:        map[string]string{names.TagManaged: "true", names.TagSandbox: u.Sandbox, names.TagPrefix: n.Prefix},
	})
	if err != nil {
		return fmt.Errorf("recording the unrevoked token %s of %s in %s: %w", u.Hash(), u.Parameter, name, err)
	}
	return nil
}

// ListUnrevoked returns the records, soonest expiry first; with
// deleteExpired, records whose token has expired at now are deleted instead
// of returned. A record that cannot be parsed is an error naming it.
func ListUnrevoked(ctx context.Context, ssm RecordStore, n names.Names, now time.Time, deleteExpired bool) ([]Unrevoked, error) {
	ps, err := ssm.DescribeParameters(ctx, n.UnrevokedPath())
	if err != nil {
		return nil, fmt.Errorf("listing unrevoked token records under %s: %w", n.UnrevokedPath(), err)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.Name
	}
	vals, err := ssm.GetParameters(ctx, ids, false)
	if err != nil {
		return nil, fmt.Errorf("reading unrevoked token records under %s: %w", n.UnrevokedPath(), err)
	}
	var out []Unrevoked
	var errs []error
	for _, id := range ids {
		v, ok := vals[id]
		if !ok {
			continue // deleted meanwhile
		}
		var u Unrevoked
		if err := json.Unmarshal([]byte(v.Value), &u); err != nil {
			errs = append(errs, fmt.Errorf("record %s is not km's: %v; delete it", id, err))
			continue
		}
		if !u.ExpiresAt.After(now) {
			if deleteExpired {
				if err := ssm.DeleteParameter(ctx, id); err != nil && !errors.Is(err, state.ErrNotFound) {
					errs = append(errs, fmt.Errorf("deleting the expired record %s: %w", id, err))
				}
			}
			continue
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExpiresAt.Before(out[j].ExpiresAt) })
	return out, errors.Join(errs...)
}
