package policyeval

import (
	"strings"
	"testing"
)

const acct = "111122223333"

func role(name string) string { return "arn:aws:iam::" + acct + ":role/" + name }

// carlos is the identity policy of the example in the IAM User Guide,
// "Policy evaluation for requests within a single account" (identity-based
// and resource-based policy evaluation): list everything, full access to his
// own bucket, an explicit deny on every bucket with "log" in its name.
const carlos = `{"Version":"2012-10-17","Statement":[
 {"Sid":"AllowS3ListRead","Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetAccountPublicAccessBlock","s3:ListAccessPoints","s3:ListAllMyBuckets"],"Resource":"arn:aws:s3:::*"},
 {"Sid":"AllowS3Self","Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*","arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"]},
 {"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::*log*"}]}`

// The identity-policy half of AWS's documented examples.
func TestEvaluateIdentityDocumentedExamples(t *testing.T) {
	carlosID := Identity{ARN: "arn:aws:iam::" + acct + ":user/carlossalazar", Policies: []*Policy{MustParse(carlos)}}
	notIAM := Identity{ARN: role("dev"), Policies: []*Policy{MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)}}
	cases := []struct {
		name   string
		id     Identity
		req    Request
		allow  bool
		reason string
	}{
		{"Carlos lists buckets", carlosID, Request{Action: "s3:ListAllMyBuckets", Resource: "arn:aws:s3:::*"}, true, "identity:AllowS3ListRead"},
		{"Carlos writes to his bucket", carlosID, Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/file.txt"}, true, "identity:AllowS3Self"},
		{"Carlos writes to his logs bucket: the explicit deny wins", carlosID, Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/file.txt"}, false, "explicit deny by identity:DenyS3Logs"},
		{"Carlos reads another bucket: implicit deny", carlosID, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::other/file.txt"}, false, "no identity policy allows"},
		{"actions compare case-insensitively", carlosID, Request{Action: "S3:putobject", Resource: "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/x"}, true, "AllowS3Self"},
		{"resources compare case-sensitively", carlosID, Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::AMZN-s3-demo-bucket-carlossalazar/x"}, false, "no identity policy allows"},
		{"NotAction allows what it does not name", notIAM, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, true, "identity:(no Sid)"},
		{"NotAction does not allow what it names", notIAM, Request{Action: "iam:CreateUser", Resource: "*"}, false, "no identity policy allows"},
		{"no policies: implicit deny", Identity{ARN: role("empty")}, Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:us-east-1:" + acct + ":parameter/x"}, false, "no identity policy allows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := EvaluateIdentity(c.id, c.req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != c.allow || !strings.Contains(got.Reason, c.reason) {
				t.Errorf("got %+v, want allowed=%v with reason containing %q", got, c.allow, c.reason)
			}
		})
	}
}

// The KMS documentation's key policies: the default key policy ("Allows
// access to the AWS account and enables IAM policies"), a key users
// statement naming a role, kms:ViaService and the encryption context.
func TestEvaluateKMSDocumentedExamples(t *testing.T) {
	const key = "arn:aws:kms:us-west-2:" + acct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	defaultPolicy := MustParse(`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`)
	bareAccount := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"kms:*","Resource":"*"}]}`)
	usersOnly := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"Allow use of the key","Effect":"Allow","Principal":{"AWS":"` + role("ExampleRole") + `"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}]}`)
	viaService := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"ViaEC2orRDS","Effect":"Allow","Principal":{"AWS":"` + role("ExampleRole") + `"},"Action":["kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":["ec2.us-west-2.amazonaws.com","rds.us-west-2.amazonaws.com"]}}}]}`)
	denyDecrypt := MustParse(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"},
		{"Sid":"NoDecrypt","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:CallerAccount":"` + acct + `"}}}]}`)
	crossAccount := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"Other account role","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/ExampleRole"},"Action":"kms:Decrypt","Resource":"*"}]}`)
	ssmContext := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"ReadableParameters","Effect":"Allow","Principal":{"AWS":"` + role("ExampleRole") + `"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:PARAMETER_ARN":"arn:aws:ssm:us-west-2:` + acct + `:parameter/ReadableParameters/*"}}}]}`)

	iamDecrypt := []*Policy{MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)}
	iamAll := []*Policy{MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Action":["kms:*","ssm:*"],"Resource":"*"}]}`)}
	iamDenyDecrypt := []*Policy{MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"Deny","Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)}
	decrypt := func(ctx map[string][]string) Request {
		return Request{Action: "kms:Decrypt", Resource: key, Context: ctx}
	}
	cases := []struct {
		name   string
		key    *Policy
		id     Identity
		req    Request
		allow  bool
		reason string
	}{
		{"default key policy + IAM allow", defaultPolicy, Identity{ARN: role("r"), Policies: iamDecrypt}, decrypt(nil), true, "key:Enable IAM User Permissions delegating to identity:"},
		{"default key policy, no IAM allow", defaultPolicy, Identity{ARN: role("r")}, decrypt(nil), false, "delegates kms:Decrypt to the account"},
		{"a bare account id is the root", bareAccount, Identity{ARN: role("r"), Policies: iamDecrypt}, decrypt(nil), true, "key:Account delegating"},
		{"the root of another account delegates nothing here", defaultPolicy, Identity{ARN: "arn:aws:iam::444455556666:role/r", Policies: iamAll}, decrypt(nil), false, "only identity policies allow"},
		{"key users statement allows without IAM", usersOnly, Identity{ARN: role("ExampleRole")}, decrypt(nil), true, "key:Allow use of the key"},
		{"key users statement, wildcard action", usersOnly, Identity{ARN: role("ExampleRole")}, Request{Action: "kms:GenerateDataKeyWithoutPlaintext", Resource: key}, true, "key:Allow use of the key"},
		{"no root statement: IAM kms:* does nothing", usersOnly, Identity{ARN: role("Admin"), Policies: iamAll}, decrypt(nil), false, "only identity policies allow kms:Decrypt"},
		{"identity deny beats a key policy allow", usersOnly, Identity{ARN: role("ExampleRole"), Policies: iamDenyDecrypt}, decrypt(nil), false, "explicit deny by identity:Deny"},
		{"key policy deny for other accounts does not hit this one", denyDecrypt, Identity{ARN: role("r"), Policies: iamDecrypt}, decrypt(map[string][]string{"kms:CallerAccount": {acct}}), true, "key:Root"},
		{"key policy deny for other accounts hits them", denyDecrypt, Identity{ARN: "arn:aws:iam::444455556666:role/r", Policies: iamDecrypt}, decrypt(map[string][]string{"kms:CallerAccount": {"444455556666"}}), false, "explicit deny by key:NoDecrypt"},
		{"kms:ViaService matches", viaService, Identity{ARN: role("ExampleRole")}, decrypt(map[string][]string{"kms:ViaService": {"rds.us-west-2.amazonaws.com"}}), true, "key:ViaEC2orRDS"},
		{"kms:ViaService of another service", viaService, Identity{ARN: role("ExampleRole")}, decrypt(map[string][]string{"kms:ViaService": {"ssm.us-west-2.amazonaws.com"}}), false, "neither"},
		{"kms:ViaService absent (a direct call)", viaService, Identity{ARN: role("ExampleRole")}, decrypt(nil), false, "neither"},
		{"encryption context within the path", ssmContext, Identity{ARN: role("ExampleRole")}, decrypt(map[string][]string{"kms:EncryptionContext:PARAMETER_ARN": {"arn:aws:ssm:us-west-2:" + acct + ":parameter/ReadableParameters/a/b"}}), true, "key:ReadableParameters"},
		{"encryption context outside the path", ssmContext, Identity{ARN: role("ExampleRole")}, decrypt(map[string][]string{"kms:EncryptionContext:PARAMETER_ARN": {"arn:aws:ssm:us-west-2:" + acct + ":parameter/Other"}}), false, "neither"},
		{"condition keys compare case-insensitively", ssmContext, Identity{ARN: role("ExampleRole")}, decrypt(map[string][]string{"KMS:encryptioncontext:parameter_arn": {"arn:aws:ssm:us-west-2:" + acct + ":parameter/ReadableParameters/x"}}), true, "key:ReadableParameters"},
		{"another role is not the named one", usersOnly, Identity{ARN: role("ExampleRole2")}, decrypt(nil), false, "neither"},
		{"a named role of another account needs its own IAM allow", crossAccount, Identity{ARN: "arn:aws:iam::444455556666:role/ExampleRole"}, decrypt(nil), false, "the caller is in account 444455556666, not the key's 111122223333"},
		{"a named role of another account with its IAM allow", crossAccount, Identity{ARN: "arn:aws:iam::444455556666:role/ExampleRole", Policies: iamDecrypt}, decrypt(nil), true, "across accounts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := EvaluateKMS(c.key, c.id, c.req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != c.allow || !strings.Contains(got.Reason, c.reason) {
				t.Errorf("got %+v, want allowed=%v with reason containing %q", got, c.allow, c.reason)
			}
		})
	}
}

func TestConditionOperators(t *testing.T) {
	pol := func(cond string) *Policy {
		return MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":` + cond + `}]}`)
	}
	cases := []struct {
		name string
		cond string
		ctx  map[string][]string
		want bool
	}{
		{"ForAnyValue:StringLike one of many", `{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/km-*"}}`, map[string][]string{"kms:ResourceAliases": {"alias/other", "alias/km-x"}}, true},
		{"ForAnyValue:StringLike none", `{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/km-*"}}`, map[string][]string{"kms:ResourceAliases": {"alias/other"}}, false},
		{"ForAnyValue:StringLike key absent", `{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/km-*"}}`, nil, false},
		{"StringLike ? is one character", `{"StringLike":{"k":"a?c"}}`, map[string][]string{"k": {"abc"}}, true},
		{"StringLike ? is not two", `{"StringLike":{"k":"a?c"}}`, map[string][]string{"k": {"abbc"}}, false},
		{"StringLike is case-sensitive", `{"StringLike":{"k":"abc"}}`, map[string][]string{"k": {"ABC"}}, false},
		{"StringEquals has no wildcards", `{"StringEquals":{"k":"a*"}}`, map[string][]string{"k": {"abc"}}, false},
		{"StringNotEquals key absent", `{"StringNotEquals":{"k":"a"}}`, nil, true},
		{"ArnLike keeps * inside a component", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/km-*"}}`, map[string][]string{"aws:SourceArn": {"arn:aws:iam::" + acct + ":role/km-x"}}, true},
		{"ArnLike * does not span components", `{"ArnLike":{"aws:SourceArn":"arn:aws:*:role/x"}}`, map[string][]string{"aws:SourceArn": {"arn:aws:iam::" + acct + ":role/x"}}, false},
		{"ArnEquals exact", `{"ArnEquals":{"aws:SourceArn":"arn:aws:iam::` + acct + `:role/x"}}`, map[string][]string{"aws:SourceArn": {"arn:aws:iam::" + acct + ":role/x"}}, true},
		{"Bool true", `{"Bool":{"aws:SecureTransport":true}}`, map[string][]string{"aws:SecureTransport": {"true"}}, true},
		{"Bool false does not match true", `{"Bool":{"aws:SecureTransport":"false"}}`, map[string][]string{"aws:SecureTransport": {"true"}}, false},
		{"two operators are ANDed", `{"StringEquals":{"a":"1"},"StringLike":{"b":"2*"}}`, map[string][]string{"a": {"1"}, "b": {"3"}}, false},
		{"values of one key are ORed", `{"StringEquals":{"a":["1","2"]}}`, map[string][]string{"a": {"2"}}, true},
		{"the caller's tag", `{"StringEquals":{"aws:PrincipalTag/team":"infra"}}`, nil, true},
		{"the caller's ARN", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/r"}}`, nil, true},
		{"a tag the caller lacks", `{"StringEquals":{"aws:PrincipalTag/other":"x"}}`, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := EvaluateIdentity(Identity{ARN: role("r"), Policies: []*Policy{pol(c.cond)}, Tags: map[string]string{"team": "infra"}}, Request{Action: "kms:Encrypt", Resource: "k", Context: c.ctx})
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != c.want {
				t.Errorf("allowed = %v, want %v (%s)", got.Allowed, c.want, got.Reason)
			}
		})
	}
}

// What the evaluator does not understand it refuses, naming it.
func TestRefusesWhatItDoesNotUnderstand(t *testing.T) {
	st := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	cases := []struct{ name, doc, frag string }{
		{"old version", `{"Version":"2008-10-17","Statement":[]}`, `Version "2008-10-17" is not supported`},
		{"unknown top-level element", `{"Version":"2012-10-17","Statement":[],"Extra":1}`, `policy element "Extra" is not supported`},
		{"NotPrincipal", st(`{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}`), `element "NotPrincipal" is not supported`},
		{"NotResource", st(`{"Effect":"Allow","Action":"kms:*","NotResource":"x"}`), `element "NotResource" is not supported`},
		{"Federated principal", st(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}`), `Principal type "Federated" is not supported`},
		{"unknown operator", st(`{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"k":"1"}}}`), `condition operator "NumericLessThan" is not supported`},
		{"IfExists", st(`{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEqualsIfExists":{"k":"1"}}}`), `"StringEqualsIfExists" is not supported`},
		{"ForAllValues", st(`{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"ForAllValues:StringLike":{"k":"1"}}}`), `"ForAllValues:StringLike" is not supported`},
		{"policy variable", st(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}`), "uses a policy variable"},
		{"number as a condition value", st(`{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"k":1}}}`), "expected a string, a boolean or a list of them"},
		{"bad effect", st(`{"Effect":"allow","Action":"kms:*","Resource":"*"}`), `Effect "allow"`},
		{"no action", st(`{"Effect":"Allow","Resource":"*"}`), "has no Action"},
		{"Action and NotAction", st(`{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}`), "both Action and NotAction"},
		{"malformed principal ARN", st(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123:role/x"},"Action":"kms:*","Resource":"*"}`), "expected an account id, an IAM or STS ARN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc)
			if err == nil || !strings.Contains(err.Error(), c.frag) {
				t.Fatalf("Parse = %v, want an error containing %q", err, c.frag)
			}
		})
	}
	// A statement of the wrong kind for where it is used.
	withPrincipal := MustParse(st(`{"Sid":"P","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}`))
	if _, err := EvaluateIdentity(Identity{ARN: role("r"), Policies: []*Policy{withPrincipal}}, Request{Action: "kms:Decrypt", Resource: "*"}); err == nil || !strings.Contains(err.Error(), "an identity policy statement cannot have a Principal") {
		t.Errorf("identity policy with a Principal: %v", err)
	}
	noPrincipal := MustParse(st(`{"Sid":"N","Effect":"Allow","Action":"kms:*","Resource":"*"}`))
	if _, err := EvaluateKMS(noPrincipal, Identity{ARN: role("r")}, Request{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:" + acct + ":key/k"}); err == nil || !strings.Contains(err.Error(), "a resource policy statement needs a Principal") {
		t.Errorf("key policy without a Principal: %v", err)
	}
	if _, err := EvaluateKMS(MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}`), Identity{ARN: role("r")}, Request{Action: "kms:Decrypt", Resource: "*"}); err == nil || !strings.Contains(err.Error(), "must be the key ARN") {
		t.Errorf("a KMS request on no key ARN: %v", err)
	}
	multi := MustParse(st(`{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"k":"a"}}}`))
	if _, err := EvaluateIdentity(Identity{ARN: role("r"), Policies: []*Policy{multi}}, Request{Action: "kms:Decrypt", Resource: "*", Context: map[string][]string{"k": {"a", "b"}}}); err == nil || !strings.Contains(err.Error(), "needs ForAnyValue or ForAllValues") {
		t.Errorf("single-valued operator on a multivalued key: %v", err)
	}
}

// Reading a SecureString needs both ssm:GetParameter and kms:Decrypt through
// SSM with the parameter's encryption context.
func TestSecureString(t *testing.T) {
	param := "arn:aws:ssm:us-east-1:" + acct + ":parameter/app/secret"
	key := MustParse(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Reader","Effect":"Allow","Principal":{"AWS":"` + role("reader") + `"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com","kms:EncryptionContext:PARAMETER_ARN":"` + param + `"}}},
		{"Sid":"Writers","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ssm.us-east-1.amazonaws.com"}}}]}`)
	p := SecureString{ARN: param, KeyARN: "arn:aws:kms:us-east-1:" + acct + ":key/k", KeyPolicy: key}
	getParam := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"Get","Effect":"Allow","Action":["ssm:GetParameter","ssm:PutParameter"],"Resource":"arn:aws:ssm:us-east-1:` + acct + `:parameter/app/*"}]}`)
	encrypt := MustParse(`{"Version":"2012-10-17","Statement":[{"Sid":"Enc","Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`)
	reader := Identity{ARN: role("reader"), Policies: []*Policy{getParam}}
	noSSM := Identity{ARN: role("reader")}
	writer := Identity{ARN: role("writer"), Policies: []*Policy{getParam, encrypt}}
	for _, c := range []struct {
		name  string
		op    func(Identity, SecureString) (Result, error)
		id    Identity
		allow bool
		frag  string
	}{
		{"reader reads", Read, reader, true, "key:Reader"},
		{"reader without ssm:GetParameter", Read, noSSM, false, "SSM denies"},
		{"reader decrypts directly", DecryptDirect, reader, false, "neither"},
		{"writer writes", Write, writer, true, "key:Writers delegating to identity:Enc"},
		{"writer cannot read", Read, writer, false, "KMS denies"},
		{"reader cannot write", Write, reader, false, "KMS denies"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.op(c.id, p)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != c.allow || !strings.Contains(got.Reason, c.frag) {
				t.Errorf("got %+v, want allowed=%v with %q", got, c.allow, c.frag)
			}
		})
	}
	if _, err := Read(reader, SecureString{ARN: "arn:aws:s3:::b", KeyPolicy: key}); err == nil {
		t.Error("Read accepted a non-SSM ARN")
	}
}
