package policyeval

import (
	"fmt"
	"strings"
)

// Request is one API request as policies see it.
type Request struct {
	Action   string // service:Operation, e.g. kms:Decrypt
	Resource string // the resource ARN
	// Context holds the condition keys of the request (names compare
	// case-insensitively); a key that is absent does not match any operator
	// but StringNotEquals.
	Context map[string][]string
}

func (r Request) value(key string) ([]string, bool) {
	for k, v := range r.Context {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// Identity is a caller: an IAM role or user ARN (or a service principal such
// as scheduler.amazonaws.com) and the identity policies attached to it.
type Identity struct {
	ARN      string
	Policies []*Policy
	// Tags are the IAM tags of the role or user (aws:PrincipalTag/KEY).
	Tags map[string]string
}

// withCaller adds the global condition keys AWS derives from the caller:
// aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalTag/KEY.
func withCaller(req Request, caller Identity) Request {
	ctx := make(map[string][]string, len(req.Context)+len(caller.Tags)+2)
	for k, v := range req.Context {
		ctx[k] = v
	}
	ctx["aws:PrincipalArn"] = []string{caller.ARN}
	if a := caller.Account(); a != "" {
		ctx["aws:PrincipalAccount"] = []string{a}
	}
	for k, v := range caller.Tags {
		ctx["aws:PrincipalTag/"+k] = []string{v}
	}
	req.Context = ctx
	return req
}

// Account is the caller's account id, or "" for a service principal.
func (id Identity) Account() string {
	m := iamARNRe.FindStringSubmatch(id.ARN)
	if m == nil {
		return ""
	}
	return m[2]
}

// Result is an authorization decision with the statements it rests on.
type Result struct {
	Allowed bool
	// Reason names the deciding statements ("identity:Sid", "key:Sid"), or
	// why nothing allowed the request.
	Reason string
}

func deny(format string, args ...any) Result {
	return Result{Reason: fmt.Sprintf(format, args...)}
}

// match is how a statement relates to a request.
type match struct {
	applies bool
	// viaAccount: a resource policy statement applies only because it names
	// the caller's account (its root): the account's IAM policies decide.
	viaAccount bool
}

func (st Statement) matches(req Request, caller Identity) (match, error) {
	var m match
	if st.Principals != nil {
		direct, account := false, false
		for _, p := range st.Principals {
			switch {
			case p.Type == "*" || (p.Type == "AWS" && p.Value == "*"):
				direct = true
			case p.Type == "Service":
				direct = direct || p.Value == caller.ARN
			case accountRe.MatchString(p.Value):
				account = account || p.Value == caller.Account()
			case rootRe.MatchString(p.Value):
				account = account || rootRe.FindStringSubmatch(p.Value)[1] == caller.Account()
			default:
				direct = direct || p.Value == caller.ARN
			}
		}
		if !direct && !account {
			return m, nil
		}
		m.viaAccount = !direct
	}
	if actionMatches(st.Actions, req.Action) == st.NotAction {
		return m, nil
	}
	if !anyGlob(st.Resources, req.Resource, false) {
		return m, nil
	}
	for _, c := range st.Conditions {
		ok, err := c.holds(req)
		if err != nil {
			return m, fmt.Errorf("%s: %w", st.name(), err)
		}
		if !ok {
			return m, nil
		}
	}
	m.applies = true
	return m, nil
}

func actionMatches(patterns []string, action string) bool {
	return anyGlob(patterns, action, true)
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob matches IAM wildcards: * (any run of characters, / and : included)
// and ? (one character); nothing else is special.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			pattern = strings.TrimLeft(pattern, "*")
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if glob(pattern, s[i:], false) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// arnGlob matches an ARN pattern component by component (ArnLike): a * never
// spans the colons between the six components.
func arnGlob(pattern, arn string) bool {
	pp := strings.SplitN(pattern, ":", 6)
	ap := strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return false
	}
	for i := range pp {
		if !glob(pp[i], ap[i], false) {
			return false
		}
	}
	return true
}

func (c Condition) holds(req Request) (bool, error) {
	got, present := req.value(c.Key)
	setOp, op, hasSet := strings.Cut(c.Operator, ":")
	if !hasSet {
		op, setOp = c.Operator, ""
	}
	one := func(v string) bool {
		for _, want := range c.Values {
			switch op {
			case "StringEquals", "StringNotEquals":
				if v == want {
					return true
				}
			case "StringLike":
				if glob(want, v, false) {
					return true
				}
			case "ArnEquals":
				if v == want {
					return true
				}
			case "ArnLike":
				if arnGlob(want, v) {
					return true
				}
			case "Bool":
				if strings.EqualFold(v, want) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case setOp == "ForAnyValue":
		for _, v := range got {
			if one(v) {
				return true, nil
			}
		}
		return false, nil
	case setOp != "":
		return false, fmt.Errorf("condition set operator %q is not supported", setOp)
	case len(got) > 1:
		return false, fmt.Errorf("condition key %s has %d values in the request; %s on a multivalued key needs ForAnyValue or ForAllValues", c.Key, len(got), c.Operator)
	case op == "StringNotEquals":
		return !present || !one(got[0]), nil
	case !present:
		return false, nil
	}
	return one(got[0]), nil
}

// evaluate runs policies for one request: explicit denies, allows (direct
// and through the account), in that order of strength.
type tally struct {
	deny, allow, allowViaAccount []string
}

func (t *tally) add(prefix string, ps []*Policy, req Request, caller Identity, resource bool) error {
	for _, p := range ps {
		for _, st := range p.Statements {
			if resource != (st.Principals != nil) {
				if resource {
					return fmt.Errorf("%s: a resource policy statement needs a Principal", st.name())
				}
				return fmt.Errorf("%s: an identity policy statement cannot have a Principal", st.name())
			}
			m, err := st.matches(req, caller)
			if err != nil {
				return err
			}
			if !m.applies {
				continue
			}
			name := prefix + ":" + sidOr(st)
			switch {
			case st.Effect == "Deny":
				t.deny = append(t.deny, name)
			case m.viaAccount:
				t.allowViaAccount = append(t.allowViaAccount, name)
			default:
				t.allow = append(t.allow, name)
			}
		}
	}
	return nil
}

func sidOr(st Statement) string {
	if st.Sid != "" {
		return st.Sid
	}
	return "(no Sid)"
}

// EvaluateIdentity decides a same-account request to a resource without a
// resource policy (SSM parameters, IAM, Lambda invoke by the caller's own
// rights): an explicit deny wins, then any allow, else the implicit deny.
func EvaluateIdentity(caller Identity, req Request) (Result, error) {
	req = withCaller(req, caller)
	var t tally
	if err := t.add("identity", caller.Policies, req, caller, false); err != nil {
		return Result{}, err
	}
	switch {
	case len(t.deny) > 0:
		return deny("explicit deny by %s", strings.Join(t.deny, ", ")), nil
	case len(t.allow) > 0:
		return Result{Allowed: true, Reason: strings.Join(t.allow, ", ")}, nil
	}
	return deny("no identity policy allows %s on %s", req.Action, req.Resource), nil
}

// EvaluateKMS decides a request to a KMS key the way KMS does: the key policy
// is the primary control. An explicit deny in the key policy or the caller's
// identity policies wins. A key policy statement naming the caller allows on
// its own when the caller is in the key's account; a caller of another
// account needs its own identity policies to allow the request too
// (cross-account access). A statement naming the caller's account (its root
// principal) allows only if the caller's identity policies allow the request
// too ("Allows access to the AWS account and enables IAM policies"). Identity
// policies alone never allow. req.Resource must be the key's ARN.
func EvaluateKMS(key *Policy, caller Identity, req Request) (Result, error) {
	if key == nil {
		return Result{}, fmt.Errorf("a KMS request needs the key policy")
	}
	keyAccount := ""
	if parts := strings.SplitN(req.Resource, ":", 6); len(parts) == 6 && parts[2] == "kms" {
		keyAccount = parts[4]
	}
	if !accountRe.MatchString(keyAccount) {
		return Result{}, fmt.Errorf("a KMS request's resource must be the key ARN arn:aws:kms:REGION:ACCOUNT:key/ID, found %q", req.Resource)
	}
	crossAccount := caller.Account() != keyAccount
	req = withCaller(req, caller)
	var k, id tally
	if err := k.add("key", []*Policy{key}, req, caller, true); err != nil {
		return Result{}, err
	}
	if err := id.add("identity", caller.Policies, req, caller, false); err != nil {
		return Result{}, err
	}
	switch {
	case len(k.deny)+len(id.deny) > 0:
		return deny("explicit deny by %s", strings.Join(append(k.deny, id.deny...), ", ")), nil
	case len(k.allow) > 0 && !crossAccount:
		return Result{Allowed: true, Reason: strings.Join(k.allow, ", ")}, nil
	case len(k.allow) > 0 && len(id.allow) > 0:
		return Result{Allowed: true, Reason: strings.Join(k.allow, ", ") + " and, across accounts, " + strings.Join(id.allow, ", ")}, nil
	case len(k.allow) > 0:
		return deny("the key policy allows %s (%s) but the caller is in account %s, not the key's %s, and no identity policy of its own allows it", req.Action, strings.Join(k.allow, ", "), caller.Account(), keyAccount), nil
	case len(k.allowViaAccount) > 0 && len(id.allow) > 0:
		return Result{Allowed: true, Reason: strings.Join(k.allowViaAccount, ", ") + " delegating to " + strings.Join(id.allow, ", ")}, nil
	case len(k.allowViaAccount) > 0:
		return deny("the key policy delegates %s to the account (%s) but no identity policy allows it", req.Action, strings.Join(k.allowViaAccount, ", ")), nil
	case len(id.allow) > 0:
		return deny("only identity policies allow %s (%s); the key policy neither names the caller nor delegates the action to its account", req.Action, strings.Join(id.allow, ", ")), nil
	}
	return deny("neither the key policy nor an identity policy allows %s", req.Action), nil
}
