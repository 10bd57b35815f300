package reconcile

import (
	"fmt"

	"github.com/klankermaker/km/internal/sandboxtoken"
)

// Policy documents km attaches. Each grants the least its holder needs.

type policyEnv struct {
	Region, Account, Prefix, Function string
}

func (e policyEnv) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, e.Region, e.Account, resource)
}

func trustPolicy(service string, cond map[string]any) string {
	st := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": service},
		"Action":    "sts:AssumeRole",
	}
	if cond != nil {
		st["Condition"] = cond
	}
	return mustJSON(map[string]any{"Version": "2012-10-17", "Statement": []any{st}})
}

// refresherTrust lets Lambda assume the refresher role.
func refresherTrust() string { return trustPolicy("lambda.amazonaws.com", nil) }

// schedulerTrust lets EventBridge Scheduler of this account assume the scheduler role.
func schedulerTrust(e policyEnv) string {
	return trustPolicy("scheduler.amazonaws.com", map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": e.Account},
	})
}

// refresherPolicy: read the App config, write sandbox tokens (and read them,
// to revoke), relay a refresh to itself, log. KMS use is not granted here: the
// App key's and every sandbox key's policy name the refresher role directly,
// which on AWS needs no IAM grant (a key policy statement naming a principal
// of the key's account suffices).
func refresherPolicy(e policyEnv) string {
	return mustJSON(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":      "ReadAppConfig",
				"Effect":   "Allow",
				"Action":   []string{"ssm:GetParameter", "ssm:GetParameters"},
				"Resource": e.arn("ssm", "parameter/"+e.Prefix+"/config/github/*"),
			},
			map[string]any{
				"Sid":      "WriteSandboxTokens",
				"Effect":   "Allow",
				"Action":   []string{"ssm:PutParameter", "ssm:AddTagsToResource"},
				"Resource": e.arn("ssm", "parameter/sandbox/*/github-token*"),
			},
			// Revocation reads every version a token parameter still holds.
			map[string]any{
				"Sid":      "ReadSandboxTokens",
				"Effect":   "Allow",
				"Action":   []string{"ssm:GetParameter", "ssm:GetParameterHistory"},
				"Resource": e.arn("ssm", "parameter/sandbox/*/github-token*"),
			},
			// The relay reads a failed token's expiry from its description.
			// DescribeParameters has no resource-level permissions in IAM:
			// it is granted on "*" or not at all, and returns metadata only.
			map[string]any{
				"Sid":      "ReadTokenMetadata",
				"Effect":   "Allow",
				"Action":   "ssm:DescribeParameters",
				"Resource": "*",
			},
			// The relay hands a refresh on to the function itself.
			map[string]any{
				"Sid":      "RelayRefresh",
				"Effect":   "Allow",
				"Action":   "lambda:InvokeFunction",
				"Resource": e.arn("lambda", "function:"+e.Function),
			},
			map[string]any{
				"Sid":      "WriteLogs",
				"Effect":   "Allow",
				"Action":   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				"Resource": e.arn("logs", "log-group:/aws/lambda/"+e.Function+":*"),
			},
		},
	})
}

// schedulerPolicy: invoke the refresher, nothing else.
func schedulerPolicy(e policyEnv) string {
	return mustJSON(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":      "InvokeRefresher",
			"Effect":   "Allow",
			"Action":   "lambda:InvokeFunction",
			"Resource": []string{e.arn("lambda", "function:"+e.Function), e.arn("lambda", "function:"+e.Function+":*")},
		}},
	})
}

// keyAdminActions are what the account may do with a km key without using it,
// enumerated: no kms:Create* or kms:Put* wildcard, because those include
// kms:CreateGrant, and a grant is use. kms:PutKeyPolicy stays, so that no key
// can be locked out; whoever may call it may rewrite the policy and grant
// themselves use (docs/security.md).
func keyAdminActions() []string {
	return []string{
		"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
		"kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
		"kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants",
		"kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy",
		"kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource",
		"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
	}
}

// keyWriteActions are what SSM calls on a key for a standard (Encrypt) or
// advanced (GenerateDataKey) SecureString write.
func keyWriteActions() []string { return []string{"kms:Encrypt", "kms:GenerateDataKey"} }

// viaSSM is the condition every key-use statement carries: the request comes
// through SSM in this region, for one of the named parameters (SSM puts the
// parameter's ARN in the encryption context of every SecureString).
func viaSSM(e policyEnv, parameters ...string) map[string]any {
	arns := make([]string, len(parameters))
	for i, p := range parameters {
		arns[i] = e.arn("ssm", "parameter"+p)
	}
	return map[string]any{
		"StringEquals": map[string]any{"kms:ViaService": "ssm." + e.Region + ".amazonaws.com"},
		"StringLike":   map[string]any{"kms:EncryptionContext:PARAMETER_ARN": arns},
	}
}

func (e policyEnv) root() string { return fmt.Sprintf("arn:aws:iam::%s:root", e.Account) }

// OperatorTag is the IAM tag (on the role or user that runs km apply) that
// the key policies require, besides an IAM grant, for writing a token or
// uploading the App key through SSM. Without it, an account administrator
// whose IAM policy allows kms:* and ssm:* on * still cannot write a token
// without first changing a tag or a key policy, which CloudTrail records.
const OperatorTag = "km:operator"

// operatorsViaSSM is viaSSM for account principals: the operator tag too.
func operatorsViaSSM(e policyEnv, parameters ...string) map[string]any {
	c := viaSSM(e, parameters...)
	c["StringEquals"].(map[string]any)["aws:PrincipalTag/"+OperatorTag] = "true"
	return c
}

func keyAdministration(e policyEnv) map[string]any {
	return map[string]any{
		"Sid": "KeyAdministration", "Effect": "Allow",
		"Principal": map[string]any{"AWS": e.root()},
		"Action":    keyAdminActions(), "Resource": "*",
	}
}

// keyPolicy is a sandbox key's policy (docs/security.md): the account
// administers the key and may not use it; the sandbox principal decrypts and
// the refresher role decrypts and encrypts, both named, through SSM, for this
// sandbox's token parameters only; account principals whose IAM policy grants
// it and who carry the operator tag may encrypt (km apply writes the first
// token), never decrypt.
func keyPolicy(e policyEnv, sandboxID, principal, refresherRoleARN string) string {
	// The first owner's parameter, and every other owner's.
	params := sandboxtoken.ParamPatterns(sandboxID)
	cond := viaSSM(e, params...)
	st := []any{
		keyAdministration(e),
		map[string]any{
			"Sid": "OperatorsEncryptViaSSM", "Effect": "Allow",
			"Principal": map[string]any{"AWS": e.root()},
			"Action":    keyWriteActions(), "Resource": "*",
			"Condition": operatorsViaSSM(e, params...),
		},
		map[string]any{
			"Sid": "RefresherUsesViaSSM", "Effect": "Allow",
			"Principal": map[string]any{"AWS": refresherRoleARN},
			"Action":    append([]string{"kms:Decrypt"}, keyWriteActions()...), "Resource": "*",
			"Condition": cond,
		},
	}
	if principal != "" {
		st = append(st, map[string]any{
			"Sid": "SandboxDecryptsViaSSM", "Effect": "Allow",
			"Principal": map[string]any{"AWS": principal},
			"Action":    "kms:Decrypt", "Resource": "*",
			"Condition": cond,
		})
	}
	return mustJSON(map[string]any{"Version": "2012-10-17", "Id": "km-github-token-" + sandboxID, "Statement": st})
}

// appKeyPolicy is the App private key's key policy: the account administers
// it; account principals whose IAM policy grants it and who carry the
// operator tag may encrypt through SSM (upload the key); only the refresher
// role decrypts, through SSM, and only the private-key parameter.
func appKeyPolicy(e policyEnv, refresherRoleARN string) string {
	param := "/" + e.Prefix + "/config/github/private-key"
	return mustJSON(map[string]any{"Version": "2012-10-17", "Id": e.Prefix + "-github-app", "Statement": []any{
		keyAdministration(e),
		map[string]any{
			"Sid": "OperatorsUploadViaSSM", "Effect": "Allow",
			"Principal": map[string]any{"AWS": e.root()},
			"Action":    keyWriteActions(), "Resource": "*",
			"Condition": operatorsViaSSM(e, param),
		},
		map[string]any{
			"Sid": "RefresherDecryptsViaSSM", "Effect": "Allow",
			"Principal": map[string]any{"AWS": refresherRoleARN},
			"Action":    "kms:Decrypt", "Resource": "*",
			"Condition": viaSSM(e, param),
		},
	}})
}
