// Package setup owns km's onboarding and diagnosis commands: the GitHub App
// manifest flow (km github), recording the App and its installations in km.yaml
// and applying only the config slice (km configure github), the health checks
// (km doctor) and the refresher's log events for one sandbox (km otel).
//
// It talks to AWS through the state package and to GitHub through
// internal/githubapp, edits km.yaml only through profiles, and reconciles only
// through internal/planapply and reconcile. It must not import cmd/* or the AWS
// SDK, and it never prints, logs or returns the App private key.
package setup
