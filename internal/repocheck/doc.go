// Package repocheck holds the repository's own checks, run by go test: no
// key-looking material is committed outside the secret-scanner allow-list
// (.gitleaks.toml), and the CI dependency installer (.ci/install-packages.sh)
// installs only what is missing or says in one line what to run.
//
// It has no code of its own beyond what the tests need and must not import any
// other km package except internal/testkeys (in tests).
package repocheck
