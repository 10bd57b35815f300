package policyeval

import (
	"fmt"
	"strings"
)

// SecureString is an SSM SecureString parameter and the KMS key that
// encrypts it, as the operations below need them.
type SecureString struct {
	ARN        string // arn:aws:ssm:REGION:ACCOUNT:parameter/NAME
	KeyARN     string // arn:aws:kms:REGION:ACCOUNT:key/ID
	KeyPolicy  *Policy
	KeyAliases []string // kms:ResourceAliases, e.g. alias/km-github-token-sb-1
}

func (p SecureString) region() (string, error) {
	parts := strings.SplitN(p.ARN, ":", 6)
	if len(parts) != 6 || parts[2] != "ssm" || !strings.HasPrefix(parts[5], "parameter/") {
		return "", fmt.Errorf("%q is not an SSM parameter ARN; expected arn:aws:ssm:REGION:ACCOUNT:parameter/NAME", p.ARN)
	}
	return parts[3], nil
}

// kmsRequest is the KMS request SSM (via) or the caller (direct) makes for
// this parameter: the encryption context SSM uses is the parameter's ARN.
func (p SecureString) kmsRequest(caller Identity, action string, viaSSM bool) (Request, error) {
	region, err := p.region()
	if err != nil {
		return Request{}, err
	}
	ctx := map[string][]string{
		"kms:EncryptionContext:PARAMETER_ARN": {p.ARN},
		"kms:EncryptionContextKeys":           {"PARAMETER_ARN"},
		"kms:CallerAccount":                   {caller.Account()},
		"kms:ResourceAliases":                 p.KeyAliases,
	}
	if viaSSM {
		ctx["kms:ViaService"] = []string{"ssm." + region + ".amazonaws.com"}
	}
	if len(p.KeyAliases) == 0 {
		delete(ctx, "kms:ResourceAliases")
	}
	return Request{Action: action, Resource: p.KeyARN, Context: ctx}, nil
}

// both combines the SSM decision and the KMS decision: both must allow.
func both(op string, ssm, kms Result) Result {
	switch {
	case !ssm.Allowed:
		return deny("%s: SSM denies: %s", op, ssm.Reason)
	case !kms.Allowed:
		return deny("%s: KMS denies: %s", op, kms.Reason)
	}
	return Result{Allowed: true, Reason: op + ": ssm " + ssm.Reason + "; kms " + kms.Reason}
}

// Read decides GetParameter WithDecryption: ssm:GetParameter by the caller's
// identity policies, and kms:Decrypt, which SSM calls on the caller's behalf
// (kms:ViaService ssm.REGION.amazonaws.com, the parameter ARN as encryption
// context), by the key policy and, where it delegates, identity policies.
func Read(caller Identity, p SecureString) (Result, error) {
	s, err := EvaluateIdentity(caller, Request{Action: "ssm:GetParameter", Resource: p.ARN})
	if err != nil {
		return Result{}, err
	}
	req, err := p.kmsRequest(caller, "kms:Decrypt", true)
	if err != nil {
		return Result{}, err
	}
	k, err := EvaluateKMS(p.KeyPolicy, caller, req)
	if err != nil {
		return Result{}, err
	}
	return both("read", s, k), nil
}

// Write decides PutParameter of a standard-tier SecureString: ssm:PutParameter
// by identity policies and kms:Encrypt through SSM. (An advanced-tier write
// calls kms:GenerateDataKey instead; km writes standard parameters.)
func Write(caller Identity, p SecureString) (Result, error) {
	s, err := EvaluateIdentity(caller, Request{Action: "ssm:PutParameter", Resource: p.ARN})
	if err != nil {
		return Result{}, err
	}
	req, err := p.kmsRequest(caller, "kms:Encrypt", true)
	if err != nil {
		return Result{}, err
	}
	k, err := EvaluateKMS(p.KeyPolicy, caller, req)
	if err != nil {
		return Result{}, err
	}
	return both("write", s, k), nil
}

// DecryptDirect decides kms:Decrypt of the parameter's ciphertext called by
// the caller itself, not through SSM (GetParameter without decryption
// returns the ciphertext; the encryption context is guessable).
func DecryptDirect(caller Identity, p SecureString) (Result, error) {
	req, err := p.kmsRequest(caller, "kms:Decrypt", false)
	if err != nil {
		return Result{}, err
	}
	return EvaluateKMS(p.KeyPolicy, caller, req)
}
