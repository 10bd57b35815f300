// Package doctor owns km doctor: the health checks of the declaration, AWS
// identity and region, the App configuration in SSM, GitHub's view of the App
// and of every installation, the refresher, and every sandbox's tokens and
// schedule; each problem is a FAIL or WARN line with its fix, as text or the
// documented JSON (docs/doctor-json.schema.json).
//
// It reaches AWS through state, GitHub through internal/githubapp and the
// refresher's log through internal/otel. It must not import cmd/* or the
// AWS SDK, and it never prints, logs or returns the App private key.
package doctor
