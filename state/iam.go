package state

import (
	"context"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// GetRole reads a role with all its inline policies (documents URL-decoded);
// ErrNotFound when the role does not exist.
func (a *AWS) GetRole(ctx context.Context, name string) (Role, error) {
	res, err := a.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return Role{}, wrapErr("iam", "GetRole", name, err)
	}
	if res.Role == nil {
		return Role{}, wrapErr("iam", "GetRole", name, errEmptyResponse)
	}
	assume, err := decodePolicy(aws.ToString(res.Role.AssumeRolePolicyDocument))
	if err != nil {
		return Role{}, wrapErr("iam", "GetRole", name+" (assume role policy)", err)
	}
	r := Role{
		Name:             aws.ToString(res.Role.RoleName),
		ARN:              aws.ToString(res.Role.Arn),
		AssumeRolePolicy: assume,
		Description:      aws.ToString(res.Role.Description),
		InlinePolicies:   map[string]string{},
	}
	names, err := a.rolePolicyNames(ctx, name)
	if err != nil {
		return Role{}, err
	}
	for _, pn := range names {
		pr, err := a.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			return Role{}, wrapErr("iam", "GetRolePolicy", name+"/"+pn, err)
		}
		doc, err := decodePolicy(aws.ToString(pr.PolicyDocument))
		if err != nil {
			return Role{}, wrapErr("iam", "GetRolePolicy", name+"/"+pn, err)
		}
		r.InlinePolicies[pn] = doc
	}
	return r, nil
}

// rolePolicyNames lists the role's inline policy names, all pages.
func (a *AWS) rolePolicyNames(ctx context.Context, role string) ([]string, error) {
	var out []string
	p := iam.NewListRolePoliciesPaginator(a.iam, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("iam", "ListRolePolicies", role, err)
		}
		out = append(out, res.PolicyNames...)
	}
	return out, nil
}

// decodePolicy URL-decodes a policy document as IAM returns it (RFC 3986
// escapes; a '+' stays a '+'). A document that is already JSON is returned as
// is (some endpoints do not encode).
func decodePolicy(doc string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc, nil
	}
	return url.PathUnescape(doc)
}

// CreateRole creates a role; ErrAlreadyExists when it exists.
func (a *AWS) CreateRole(ctx context.Context, name, assumePolicy, description string, tags map[string]string) (Role, error) {
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(assumePolicy),
		Description:              optString(description),
	}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	res, err := a.iam.CreateRole(ctx, in)
	if err != nil {
		return Role{}, wrapErr("iam", "CreateRole", name, err)
	}
	r := Role{Name: name, AssumeRolePolicy: assumePolicy, Description: description, InlinePolicies: map[string]string{}}
	if res.Role != nil {
		r.ARN = aws.ToString(res.Role.Arn)
	}
	return r, nil
}

// UpdateAssumeRolePolicy replaces the role's trust policy.
func (a *AWS) UpdateAssumeRolePolicy(ctx context.Context, name, policy string) error {
	_, err := a.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
		RoleName:       aws.String(name),
		PolicyDocument: aws.String(policy),
	})
	return wrapErr("iam", "UpdateAssumeRolePolicy", name, err)
}

// PutRolePolicy creates or replaces an inline policy.
func (a *AWS) PutRolePolicy(ctx context.Context, role, policyName, doc string) error {
	_, err := a.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(role),
		PolicyName:     aws.String(policyName),
		PolicyDocument: aws.String(doc),
	})
	return wrapErr("iam", "PutRolePolicy", role+"/"+policyName, err)
}

// DeleteRolePolicy deletes an inline policy; ErrNotFound when absent.
func (a *AWS) DeleteRolePolicy(ctx context.Context, role, policyName string) error {
	_, err := a.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{
		RoleName:   aws.String(role),
		PolicyName: aws.String(policyName),
	})
	return wrapErr("iam", "DeleteRolePolicy", role+"/"+policyName, err)
}

// DeleteRole deletes the role's inline policies, then the role; ErrNotFound
// when the role does not exist.
func (a *AWS) DeleteRole(ctx context.Context, name string) error {
	names, err := a.rolePolicyNames(ctx, name)
	if err != nil {
		return err
	}
	for _, pn := range names {
		if err := a.DeleteRolePolicy(ctx, name, pn); err != nil && !IsNotFound(err) {
			return err
		}
	}
	_, err = a.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	return wrapErr("iam", "DeleteRole", name, err)
}
