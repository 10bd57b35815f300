// Package planpolicy has no code of its own: its test runs the example Rego
// policy (examples/policy) with Open Policy Agent, the way conftest runs a
// policy on `terraform show -json`, against real km plan JSON (km plan
// --format json and km show --format json, on kumo and the GitHub simulator)
// and against hand-written Terraform plans, and checks both get the same
// verdict. OPA is a test-only dependency: no package of km may depend on it
// outside tests (internal/layering checks). Nothing imports this package.
package planpolicy
