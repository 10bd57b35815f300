package reconcile

import "fmt"

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

// refresherPolicy: read the App config, write (and encrypt) sandbox tokens,
// relay a refresh to itself, log.
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
				"Sid":      "DecryptAppKey",
				"Effect":   "Allow",
				"Action":   "kms:Decrypt",
				"Resource": "*",
				"Condition": map[string]any{
					"StringEquals": map[string]any{"kms:ViaService": "ssm." + e.Region + ".amazonaws.com"},
					"StringLike":   map[string]any{"kms:EncryptionContext:PARAMETER_ARN": e.arn("ssm", "parameter/"+e.Prefix+"/config/github/*")},
				},
			},
			map[string]any{
				"Sid":      "WriteSandboxTokens",
				"Effect":   "Allow",
				"Action":   []string{"ssm:PutParameter", "ssm:AddTagsToResource"},
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
				"Sid":      "EncryptSandboxTokens",
				"Effect":   "Allow",
				"Action":   []string{"kms:Encrypt", "kms:GenerateDataKey"},
				"Resource": e.arn("kms", "key/*"),
				"Condition": map[string]any{
					"ForAnyValue:StringLike": map[string]any{"kms:ResourceAliases": "alias/" + e.Prefix + "-github-token-*"},
				},
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

// keyAdminActions are what the account may do with a sandbox key without using it.
var keyAdminActions = []string{
	"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
	"kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
}

// keyPolicy: the account administers the key; the refresher role encrypts; the
// sandbox principal decrypts, through SSM only. Account principals may encrypt and
// decrypt through SSM only when their own IAM policy grants it explicitly (km apply
// mints the first token and km destroy revokes tokens that way); no other principal
// is named.
func keyPolicy(e policyEnv, sandboxID, principal, refresherRoleARN string) string {
	viaSSM := map[string]any{"StringEquals": map[string]any{"kms:ViaService": "ssm." + e.Region + ".amazonaws.com"}}
	root := fmt.Sprintf("arn:aws:iam::%s:root", e.Account)
	st := []any{
		map[string]any{
			"Sid": "KeyAdministration", "Effect": "Allow",
			"Principal": map[string]any{"AWS": root},
			"Action":    keyAdminActions, "Resource": "*",
		},
		map[string]any{
			"Sid": "OperatorsViaSSM", "Effect": "Allow",
			"Principal": map[string]any{"AWS": root},
			"Action":    []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}, "Resource": "*",
			"Condition": viaSSM,
		},
		map[string]any{
			"Sid": "RefresherEncrypts", "Effect": "Allow",
			"Principal": map[string]any{"AWS": refresherRoleARN},
			"Action":    []string{"kms:Encrypt", "kms:GenerateDataKey"}, "Resource": "*",
			"Condition": viaSSM,
		},
	}
	if principal != "" {
		st = append(st, map[string]any{
			"Sid": "SandboxDecrypts", "Effect": "Allow",
			"Principal": map[string]any{"AWS": principal},
			"Action":    "kms:Decrypt", "Resource": "*",
			"Condition": viaSSM,
		})
	}
	return mustJSON(map[string]any{"Version": "2012-10-17", "Id": "km-github-token-" + sandboxID, "Statement": st})
}
