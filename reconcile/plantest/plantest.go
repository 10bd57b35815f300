// Package plantest holds hand-built plans for tests: every action, multi-line
// JSON diffs, sensitive attributes, values known after apply, warnings and a
// plan without changes. The renderers' golden files (reconcile/views) and the
// plan file tests (reconcile) share them. Only tests import it.
package plantest

import (
	"time"

	"github.com/klankermaker/km/reconcile"
)

const policyBefore = `{
  "Statement": [
    {
      "Action": ["ssm:GetParameter"],
      "Effect": "Allow",
      "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/km/config/github/*"
    }
  ],
  "Version": "2012-10-17"
}`

const policyAfter = `{
  "Statement": [
    {
      "Action": ["ssm:GetParameter", "ssm:GetParameters"],
      "Effect": "Allow",
      "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/km/config/github/*"
    }
  ],
  "Version": "2012-10-17"
}`

// Input is a refresh schedule input as it appears in plans.
const Input = `{
  "allowed_repos": ["acme/api"],
  "installation_id": 42,
  "sandbox_id": "sb-3"
}`

// Plans are hand-built plans covering every action, multi-line JSON
// diffs, sensitive attributes, values known after apply, warnings and a plan
// without changes.
func Plans() map[string]*reconcile.Plan {
	base := func() *reconcile.Plan {
		return &reconcile.Plan{FormatVersion: reconcile.FormatVersion, DeclarationHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Prefix: "km", Region: "us-east-1"}
	}
	create := base()
	create.Changes = []reconcile.Change{
		{
			Address: "aws_iam_role.refresher", Type: "aws_iam_role", ID: "km-github-token-refresher", Action: reconcile.Create, Reason: "role missing",
			After: map[string]string{"name": "km-github-token-refresher", "arn": reconcile.Unknown, "inline_policy": policyAfter},
		},
		{
			Address: "aws_ssm_parameter.private_key", Type: "aws_ssm_parameter", ID: "/km/config/github/private-key", Action: reconcile.Create, Reason: "parameter missing",
			After:     map[string]string{"name": "/km/config/github/private-key", "type": "SecureString", "value": "sensitive:SHA256:aaaa", "description": "km App private key SHA256:aaaa"},
			Sensitive: []string{"value"},
		},
		{
			Address: `sandbox["sb-1"].km_github_token["acme"]`, Type: "km_github_token", Sandbox: "sb-1", ID: "/sandbox/sb-1/github-token", Action: reconcile.Create, Reason: "token parameter missing",
			After:     map[string]string{"name": "/sandbox/sb-1/github-token", "owner": "acme", "repositories": "api,web", "value": "(minted at apply)"},
			Sensitive: []string{"value"}, DependsOn: []string{`sandbox["sb-1"].aws_kms_alias.token`},
		},
	}
	mixed := base()
	mixed.Targets = []string{`sandbox["sb-2"]`}
	mixed.Warnings = []string{"Resource targeting is in effect: the plan may be incomplete."}
	mixed.Changes = []reconcile.Change{
		{
			Address: "aws_iam_role.refresher", Type: "aws_iam_role", ID: "km-github-token-refresher", Action: reconcile.Update,
			Reason:       "live inline_policy differs from the declaration",
			Before:       map[string]string{"name": "km-github-token-refresher", "arn": "arn:aws:iam::123456789012:role/km-github-token-refresher", "inline_policy": policyBefore},
			After:        map[string]string{"name": "km-github-token-refresher", "arn": "arn:aws:iam::123456789012:role/km-github-token-refresher", "inline_policy": policyAfter},
			Precondition: "sha256=1111111111111111",
		},
		{
			Address: "aws_ssm_parameter.private_key", Type: "aws_ssm_parameter", ID: "/km/config/github/private-key", Action: reconcile.Update,
			Reason:       "the App private key in km.yaml differs from the one in SSM (fingerprint)",
			Before:       map[string]string{"name": "/km/config/github/private-key", "type": "SecureString", "value": "sensitive:SHA256:aaaa", "description": "km App private key SHA256:aaaa"},
			After:        map[string]string{"name": "/km/config/github/private-key", "type": "SecureString", "value": "sensitive:SHA256:bbbb", "description": "km App private key SHA256:bbbb"},
			Sensitive:    []string{"value"},
			Precondition: "version=3",
		},
		{
			Address: `aws_ssm_parameter.installation["acme"]`, Type: "aws_ssm_parameter", ID: "/km/config/github/installations/acme", Action: reconcile.Replace,
			Reason:       "type String cannot become SecureString in place",
			Before:       map[string]string{"name": "/km/config/github/installations/acme", "type": "String", "value": "42"},
			After:        map[string]string{"name": "/km/config/github/installations/acme", "type": "SecureString", "value": "42"},
			ForceNew:     []string{"type"},
			Precondition: "version=1",
		},
		{
			Address: `sandbox["sb-2"].aws_kms_key.token`, Type: "aws_kms_key", Sandbox: "sb-2", ID: "1234abcd-0000-0000-0000-000000000002", Action: reconcile.Replace,
			Reason:       "key is disabled",
			Before:       map[string]string{"key_id": "1234abcd-0000-0000-0000-000000000002", "key_state": "Disabled", "description": "km GitHub token key for sandbox sb-2"},
			After:        map[string]string{"key_id": reconcile.Unknown, "key_state": "Enabled", "description": "km GitHub token key for sandbox sb-2"},
			Precondition: "state=Disabled policy=2222222222222222",
		},
		{
			Address: `sandbox["sb-3"].aws_scheduler_schedule.refresh`, Type: "aws_scheduler_schedule", Sandbox: "sb-3", ID: "km-github-token-sb-3", Action: reconcile.Create,
			Reason: "schedule missing",
			After:  map[string]string{"name": "km-github-token-sb-3", "schedule_expression": "rate(45 minutes)", "input": Input, "target_arn": reconcile.Unknown},
		},
		{
			Address: `sandbox["sb-old"].km_github_token["acme"]`, Type: "km_github_token", Sandbox: "sb-old", ID: "/sandbox/sb-old/github-token", Action: reconcile.Delete,
			Reason:       "orphaned: no sandbox/owner in km.yaml uses this token",
			Before:       map[string]string{"name": "/sandbox/sb-old/github-token", "owner": "acme", "value": "(sensitive)"},
			Sensitive:    []string{"value"},
			Precondition: "version=7",
		},
		{
			Address: `aws_ssm_parameter.installation["old-org"]`, Type: "aws_ssm_parameter", ID: "/km/config/github/installations/old-org", Action: reconcile.Delete,
			Reason:       "installation no longer in km.yaml",
			Before:       map[string]string{"name": "/km/config/github/installations/old-org", "type": "String", "value": "111"},
			Precondition: "version=2",
		},
	}
	mixed.Unchanged = []reconcile.Change{
		{
			Address: "aws_cloudwatch_log_group.refresher", Type: "aws_cloudwatch_log_group", ID: "/aws/lambda/km-github-token-refresher", Action: reconcile.NoOp,
			Before:       map[string]string{"name": "/aws/lambda/km-github-token-refresher", "retention_in_days": "30"},
			After:        map[string]string{"name": "/aws/lambda/km-github-token-refresher", "retention_in_days": "30"},
			Precondition: "retention=30",
		},
		{
			Address: `sandbox["sb-3"].km_github_token["acme"]`, Type: "km_github_token", Sandbox: "sb-3", ID: "/sandbox/sb-3/github-token", Action: reconcile.NoOp,
			Before:       map[string]string{"name": "/sandbox/sb-3/github-token", "owner": "acme", "value": "(sensitive)"},
			After:        map[string]string{"name": "/sandbox/sb-3/github-token", "owner": "acme", "value": "(sensitive)"},
			Sensitive:    []string{"value"},
			Precondition: "version=4",
		},
	}
	return map[string]*reconcile.Plan{"create": create, "mixed": mixed, "nochange": base()}
}

// Meta is the metadata of a saved plan that the golden files show.
func Meta() reconcile.PlanMeta {
	return reconcile.PlanMeta{
		KMVersion: "v1.2.3", PlanID: "0f8fad5b-d9cb-469f-a165-70867728950e",
		CreatedAt: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), Account: "123456789012", Declaration: "infra/km.yaml",
	}
}
