package lambda

import (
	"context"
	"crypto/rsa"
	"fmt"
	"sync"
	"time"

	"github.com/klankermaker/km/internal/githubapp"
	"github.com/klankermaker/km/internal/names"
)

// Credentials strategy. Every invocation reads both App parameters with one
// GetParameters call without decryption: it returns the client ID (a String)
// and the private key's Version and LastModified, cheaply and with no KMS
// decrypt. The parsed key is cached per warm execution environment, keyed by
// that Version and LastModified (LastModified guards against a parameter
// deleted and re-created, whose Version restarts at 1). Only when they change
// — km apply rotated the key, which overwrites the parameter and bumps its
// Version — is the PEM fetched with decryption and parsed again. So a rotated
// key takes effect at the very next invocation, a warm invocation costs one
// SSM call, and the decrypted PEM crosses the network once per key version.
// A 401 from GitHub also drops the cache, so a key that GitHub stopped
// accepting is re-read even if SSM was changed out of band.

// appCredentials is the App identity one invocation signs with.
type appCredentials struct {
	ClientID string
	Key      *rsa.PrivateKey
}

type keyVersion struct {
	Version      int64
	LastModified time.Time
}

// keyCache holds the parsed App key of one execution environment.
type keyCache struct {
	mu      sync.Mutex
	version keyVersion
	key     *rsa.PrivateKey
}

func (c *keyCache) get(v keyVersion) *rsa.PrivateKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != nil && c.version == v {
		return c.key
	}
	return nil
}

func (c *keyCache) put(v keyVersion, k *rsa.PrivateKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version, c.key = v, k
}

func (c *keyCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version, c.key = keyVersion{}, nil
}

// credentials returns the App client ID and private key from SSM.
func (h *Handler) credentials(ctx context.Context) (appCredentials, error) {
	n := names.New(h.Prefix)
	idName, keyName := n.AppClientIDParam(), n.PrivateKeyParam()
	ps, err := h.SSM.GetParameters(ctx, []string{idName, keyName}, false)
	if err != nil {
		return appCredentials{}, fmt.Errorf("reading the GitHub App configuration (%s, %s) from SSM: %w", idName, keyName, err)
	}
	id, ok := ps[idName]
	if !ok || id.Value == "" {
		return appCredentials{}, fmt.Errorf("the GitHub App client ID parameter %s is missing or empty; set github.appClientId in km.yaml and run km apply", idName)
	}
	meta, ok := ps[keyName]
	if !ok {
		return appCredentials{}, fmt.Errorf("the GitHub App private key parameter %s is missing; set github.privateKeyFile in km.yaml and run km apply", keyName)
	}
	if k := h.keys.get(keyVersion{meta.Version, meta.LastModified}); k != nil {
		return appCredentials{ClientID: id.Value, Key: k}, nil
	}
	full, err := h.SSM.GetParameter(ctx, keyName, true)
	if err != nil {
		return appCredentials{}, fmt.Errorf("reading the GitHub App private key %s from SSM: %w", keyName, err)
	}
	key, err := githubapp.ParsePrivateKey([]byte(full.Value))
	if err != nil {
		// ParsePrivateKey's errors never repeat key material.
		return appCredentials{}, fmt.Errorf("SSM parameter %s (version %d): %w; upload the App's .pem with github.privateKeyFile and km apply", keyName, full.Version, err)
	}
	h.keys.put(keyVersion{full.Version, full.LastModified}, key)
	return appCredentials{ClientID: id.Value, Key: key}, nil
}
