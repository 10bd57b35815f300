# A conftest policy for plans in Terraform's JSON representation: the output of
# `terraform show -json PLANFILE`, and equally of `km plan --format json` and
# `km show --format json PLANFILE` (docs/plan-json.md).
#
#   km show --format json km.plan.json > plan.json
#   conftest test --policy examples/policy plan.json
#
# or, without conftest:
#
#   opa eval --format pretty --data examples/policy --input plan.json 'data.main'
#
# deny fails the check; warn is reported and does not.
package main

import rego.v1

# Deleting a KMS key (a destroy, or the delete half of a replacement) makes
# everything it encrypted unreadable once the key is gone: it needs a review
# beyond the plan's.
deny contains msg if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type == "aws_kms_key"
	"delete" in rc.change.actions
	msg := sprintf("%s: the plan deletes a KMS key (actions %s); get a second review before applying", [rc.address, concat(",", rc.change.actions)])
}

# A SecureString parameter should be encrypted with a customer managed key,
# not the account's default alias/aws/ssm. A key_id known only after apply (a
# key created in the same plan, or the provider's computed default) warns too:
# confirm it in review.
warn contains msg if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type == "aws_ssm_parameter"
	some action in rc.change.actions
	action in {"create", "update"}
	rc.change.after.type == "SecureString"
	not customer_key(rc.change)
	msg := sprintf("%s: SecureString parameter without a customer managed KMS key (key_id unset, known only after apply, or alias/aws/ssm)", [rc.address])
}

customer_key(change) if {
	key := change.after.key_id
	key != ""
	key != "alias/aws/ssm"
}
