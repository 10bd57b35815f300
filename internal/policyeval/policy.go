// Package policyeval evaluates AWS IAM policy documents for a request: the
// identity policies of a caller, a KMS key policy, and the two together the
// way KMS and SSM combine them. It owns the policy grammar km emits and the
// evaluation rules AWS documents for it, and nothing more: any element,
// principal type, operator or value it does not understand is an error, never
// a guess. Tests use it to prove who can read what (the access matrix of
// docs/security.md); km itself does not evaluate policies at run time.
//
// It imports nothing from km and nothing from AWS.
package policyeval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Policy is one parsed policy document.
type Policy struct {
	ID         string
	Statements []Statement
}

// Statement is one parsed statement.
type Statement struct {
	Sid    string
	Effect string // Allow or Deny
	// Principals is nil in an identity policy; in a resource policy it lists
	// who the statement applies to.
	Principals []Principal
	Actions    []string
	NotAction  bool // Actions lists what the statement does NOT apply to
	Resources  []string
	Conditions []Condition
}

// Principal is one principal of a resource policy statement.
type Principal struct {
	Type  string // AWS, Service or * (anyone)
	Value string
}

// Condition is one operator/key pair with its values.
type Condition struct {
	Operator string // as written, e.g. ForAnyValue:StringLike
	Key      string
	Values   []string
}

var (
	rootRe    = regexp.MustCompile(`^arn:aws[-a-z]*:iam::([0-9]{12}):root$`)
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	iamARNRe  = regexp.MustCompile(`^arn:aws[-a-z]*:(iam|sts)::([0-9]{12}):.+$`)
)

// Parse parses a policy document, refusing anything outside the supported
// grammar: top-level Version (2012-10-17 only), Id, Statement; statement Sid,
// Effect, Principal (AWS or Service, or "*"), Action or NotAction, Resource,
// Condition with the operators Evaluate implements.
func Parse(doc string) (*Policy, error) {
	top, err := object([]byte(doc), "the policy")
	if err != nil {
		return nil, err
	}
	p := &Policy{}
	for k, v := range top {
		switch k {
		case "Version":
			var s string
			if err := json.Unmarshal(v, &s); err != nil || s != "2012-10-17" {
				return nil, fmt.Errorf("policy Version %s is not supported; expected \"2012-10-17\"", v)
			}
		case "Id":
			if err := json.Unmarshal(v, &p.ID); err != nil {
				return nil, fmt.Errorf("policy Id: expected a string, found %s", v)
			}
		case "Statement":
		default:
			return nil, fmt.Errorf("policy element %q is not supported; expected Version, Id, Statement", k)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, fmt.Errorf("the policy has no Statement")
	}
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
	} else {
		list = []json.RawMessage{raw}
	}
	for i, r := range list {
		st, err := parseStatement(r)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// MustParse is Parse for documents a test writes itself; it panics on error.
func MustParse(doc string) *Policy {
	p, err := Parse(doc)
	if err != nil {
		panic(err)
	}
	return p
}

func object(b []byte, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %w", what, err)
	}
	return m, nil
}

func parseStatement(r json.RawMessage) (Statement, error) {
	m, err := object(r, "the statement")
	if err != nil {
		return Statement{}, err
	}
	var st Statement
	for k := range m {
		switch k {
		case "Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "Condition":
		default:
			return st, fmt.Errorf("element %q is not supported (this evaluator refuses rather than guesses); expected Sid, Effect, Principal, Action, NotAction, Resource, Condition", k)
		}
	}
	if v, ok := m["Sid"]; ok {
		if err := json.Unmarshal(v, &st.Sid); err != nil {
			return st, fmt.Errorf("Sid: expected a string, found %s", v)
		}
	}
	if err := json.Unmarshal(m["Effect"], &st.Effect); err != nil || (st.Effect != "Allow" && st.Effect != "Deny") {
		return st, fmt.Errorf("%s: Effect %s; expected \"Allow\" or \"Deny\"", st.name(), m["Effect"])
	}
	switch a, na := m["Action"], m["NotAction"]; {
	case a != nil && na != nil:
		return st, fmt.Errorf("%s has both Action and NotAction; expected one", st.name())
	case a != nil:
		st.Actions, err = strings1(a)
	case na != nil:
		st.Actions, err = strings1(na)
		st.NotAction = true
	default:
		return st, fmt.Errorf("%s has no Action; expected Action or NotAction", st.name())
	}
	if err != nil {
		return st, fmt.Errorf("%s: Action: %w", st.name(), err)
	}
	for _, a := range st.Actions {
		if a != "*" && !strings.Contains(a, ":") {
			return st, fmt.Errorf("%s: action %q; expected service:Action", st.name(), a)
		}
	}
	r, ok := m["Resource"]
	if !ok {
		return st, fmt.Errorf("%s has no Resource", st.name())
	}
	if st.Resources, err = strings1(r); err != nil {
		return st, fmt.Errorf("%s: Resource: %w", st.name(), err)
	}
	for _, res := range st.Resources {
		if strings.Contains(res, "${") {
			return st, fmt.Errorf("%s: resource %q uses a policy variable, which is not supported", st.name(), res)
		}
	}
	if v, ok := m["Principal"]; ok {
		if st.Principals, err = parsePrincipal(v); err != nil {
			return st, fmt.Errorf("%s: %w", st.name(), err)
		}
	}
	if v, ok := m["Condition"]; ok {
		if st.Conditions, err = parseConditions(v); err != nil {
			return st, fmt.Errorf("%s: %w", st.name(), err)
		}
	}
	return st, nil
}

func (st Statement) name() string {
	if st.Sid != "" {
		return "statement " + st.Sid
	}
	return "the statement"
}

// strings1 decodes a string or a non-empty list of strings.
func strings1(v json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return []string{s}, nil
	}
	var l []string
	if err := json.Unmarshal(v, &l); err != nil || len(l) == 0 {
		return nil, fmt.Errorf("expected a string or a non-empty list of strings, found %s", v)
	}
	return l, nil
}

func parsePrincipal(v json.RawMessage) ([]Principal, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if s != "*" {
			return nil, fmt.Errorf("Principal %q; expected \"*\" or an object with AWS or Service", s)
		}
		return []Principal{{Type: "*", Value: "*"}}, nil
	}
	m, err := object(v, "Principal")
	if err != nil {
		return nil, err
	}
	var out []Principal
	for _, typ := range sortedKeys(m) {
		vals, err := strings1(m[typ])
		if err != nil {
			return nil, fmt.Errorf("Principal %s: %w", typ, err)
		}
		for _, val := range vals {
			switch typ {
			case "AWS":
				if val != "*" && !accountRe.MatchString(val) && !iamARNRe.MatchString(val) {
					return nil, fmt.Errorf("Principal AWS %q; expected an account id, an IAM or STS ARN, or \"*\"", val)
				}
			case "Service":
				if !strings.HasSuffix(val, ".amazonaws.com") {
					return nil, fmt.Errorf("Principal Service %q; expected a service principal like lambda.amazonaws.com", val)
				}
			default:
				return nil, fmt.Errorf("Principal type %q is not supported; expected AWS or Service", typ)
			}
			out = append(out, Principal{Type: typ, Value: val})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("Principal is empty")
	}
	return out, nil
}

// operators lists the condition operators the evaluator implements.
func operators() []string {
	return []string{"ArnEquals", "ArnLike", "Bool", "ForAnyValue:StringEquals", "ForAnyValue:StringLike", "StringEquals", "StringLike", "StringNotEquals"}
}

func supported(op string) bool {
	for _, o := range operators() {
		if o == op {
			return true
		}
	}
	return false
}

func parseConditions(v json.RawMessage) ([]Condition, error) {
	m, err := object(v, "Condition")
	if err != nil {
		return nil, err
	}
	var out []Condition
	for _, op := range sortedKeys(m) {
		if !supported(op) {
			return nil, fmt.Errorf("condition operator %q is not supported (this evaluator refuses rather than guesses); expected one of %s", op, strings.Join(operators(), ", "))
		}
		keys, err := object(m[op], "Condition "+op)
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(keys) {
			vals, err := conditionValues(keys[k])
			if err != nil {
				return nil, fmt.Errorf("condition %s %s: %w", op, k, err)
			}
			for _, val := range vals {
				if strings.Contains(val, "${") {
					return nil, fmt.Errorf("condition %s %s: value %q uses a policy variable, which is not supported", op, k, val)
				}
				if op == "Bool" && val != "true" && val != "false" {
					return nil, fmt.Errorf("condition Bool %s: value %q; expected true or false", k, val)
				}
			}
			out = append(out, Condition{Operator: op, Key: k, Values: vals})
		}
	}
	return out, nil
}

// conditionValues decodes a string, a boolean, or a list of either.
func conditionValues(v json.RawMessage) ([]string, error) {
	if vals, err := strings1(v); err == nil {
		return vals, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return []string{fmt.Sprint(b)}, nil
	}
	var bl []bool
	if err := json.Unmarshal(v, &bl); err == nil && len(bl) > 0 {
		out := make([]string, len(bl))
		for i, x := range bl {
			out[i] = fmt.Sprint(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a string, a boolean or a list of them, found %s", v)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
