// Package setup owns km's onboarding commands: the GitHub App manifest flow
// (km github) and recording the App and its installations in km.yaml and
// applying only the config slice (km configure github). The health checks
// (km doctor) are internal/doctor's, the refresher's events (km otel)
// internal/otel's.
//
// It talks to AWS through the state package and to GitHub through
// internal/githubapp, edits km.yaml only through profiles, and reconciles only
// through internal/planapply and reconcile. It must not import cmd/* or the AWS
// SDK, and it never prints, logs or returns the App private key.
package setup
