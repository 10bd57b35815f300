// Package profiles owns the declaration: the km.yaml installations config and the
// SandboxProfile documents in profilesDir. It loads them strictly (every error names
// file:line:col and what was expected), resolves repo and ref patterns, maps profile
// permissions to GitHub permissions. Editing km.yaml in place belongs to
// profiles/kmyaml.
//
// It must not import the AWS SDK, go-github, or any km package but
// internal/pemkey (the PEM parser it checks the App key file with).
package profiles

// Pos is a position in a YAML file (1-based line and column).
type Pos struct {
	File string
	Line int
	Col  int
}

// Config is a loaded, validated km.yaml together with the profiles it references.
type Config struct {
	File        string // absolute path of km.yaml
	Path        string // km.yaml's path as the user gave it (for messages)
	Dir         string // folder of km.yaml; relative paths inside it resolve here
	Region      string // may be empty: the AWS SDK chain decides
	Prefix      string // default "km"
	GitHub      GitHub
	Refresher   Refresher
	ProfilesDir string // absolute
	Sandboxes   []Sandbox
	Profiles    map[string]*Profile // by metadata.name
	Safety      Safety
	Quotas      []QuotaOverride // km.yaml's quotas section, by bucket name
	// Hash is the SHA-256 (hex) of the declaration: km.yaml bytes, every profile's
	// bytes and the private key fingerprint (never the key itself).
	Hash string
}

// GitHub is km.yaml's github section.
type GitHub struct {
	AppClientID    string
	AppID          int64
	PrivateKeyFile string // absolute; empty when omitted (keep what SSM holds)
	// PrivateKeyMissing: PrivateKeyFile is declared but does not exist (a
	// CI job that only plans has no key file). Plan then keeps what SSM
	// holds, with a note; an apply that has to upload the key fails.
	PrivateKeyMissing bool
	// PrivateKeyPEM is the file's content, validated as an RSA key (PKCS#1 or PKCS#8).
	// It is a secret: never print it, never put it in an error.
	PrivateKeyPEM []byte
	APIURL        string         // default https://api.github.com
	WebURL        string         // default https://github.com
	Installations []Installation // in file order
	// DefaultInstallation is the account whose id goes to the legacy
	// installation-id parameter; default: the first listed.
	DefaultInstallation string
	// KeyFingerprint identifies the private key without revealing it:
	// "SHA256:" + hex SHA-256 of the public key's PKIX DER; empty without a key.
	KeyFingerprint string
}

// Installation maps an account login to the App's installation id there.
type Installation struct {
	Account string
	ID      int64
	Pos     Pos
}

// Refresher is km.yaml's refresher section (defaults filled in).
type Refresher struct {
	Schedule         string // default "rate(45 minutes)"
	MemoryMB         int32  // default 128
	TimeoutSeconds   int32  // default 60
	LogRetentionDays int32  // default 30
	Architecture     string // default "arm64"
}

// Sandbox is one entry of km.yaml's sandboxes list.
type Sandbox struct {
	ID        string
	Profile   string
	Principal string // the IAM role or user ARN that alone decrypts the token: required, unique, never a root
	Pos       Pos
}

// Profile is a SandboxProfile's GitHub source access.
type Profile struct {
	Name         string
	File         string // absolute path of the profile file
	AllowedRepos []RepoPattern
	AllowedRefs  []string // empty: every ref allowed
	Permissions  []string // subset of clone, fetch, push; default clone, fetch
	// HasGitHub reports whether spec.sourceAccess.github is present.
	HasGitHub bool
	// Pos is where metadata.name is, with the file as the user would write it.
	Pos Pos
	// AllowedEndpoints are the non-repository GitHub API endpoints km proxy lets
	// through (spec.sourceAccess.github.allowedEndpoints; see EndpointGraphQL...);
	// empty by default: every request that names no repository is denied.
	AllowedEndpoints []string
	// Enforcement is spec.network.enforcement: EnforcementHook (default) or
	// EnforcementProxy.
	Enforcement string
	// StarAccount is the account the bare "*" pattern resolves to: the default
	// installation's account, set by Load. When empty, "*" applies to every owner.
	StarAccount string

	raw     []byte // file content, for Config.Hash
	repoPos []Pos  // position of each AllowedRepos entry
}

// RepoPattern is one allowedRepos entry: owner/repo, owner/* or "*".
type RepoPattern struct {
	Owner string // "*" for the bare "*" pattern
	Repo  string // "*" for owner/* and for "*"
}
