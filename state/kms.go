package state

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// defaultPolicyName is the only key policy name KMS knows.
const defaultPolicyName = "default"

// DescribeKey reads a key by id, ARN or alias name; ErrNotFound when absent.
func (a *AWS) DescribeKey(ctx context.Context, keyIDOrAlias string) (Key, error) {
	res, err := a.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyIDOrAlias)})
	if err != nil {
		return Key{}, wrapErr("kms", "DescribeKey", keyIDOrAlias, err)
	}
	if res.KeyMetadata == nil {
		return Key{}, wrapErr("kms", "DescribeKey", keyIDOrAlias, errEmptyResponse)
	}
	return fromKeyMetadata(res.KeyMetadata), nil
}

// GetAlias reads one alias by name (alias/...) through DescribeKey, which
// resolves alias names. Unlike ListAliases it does not depend on the endpoint
// listing every alias. ErrNotFound when the alias does not exist.
func (a *AWS) GetAlias(ctx context.Context, alias string) (Alias, error) {
	k, err := a.DescribeKey(ctx, alias)
	if err != nil {
		return Alias{}, err
	}
	arn := ""
	if i := strings.Index(k.ARN, ":key/"); i >= 0 {
		arn = k.ARN[:i] + ":" + alias
	}
	return Alias{Name: alias, TargetKeyID: k.KeyID, ARN: arn}, nil
}

// GetKeyPolicy returns the key's policy document ("default").
func (a *AWS) GetKeyPolicy(ctx context.Context, keyID string) (string, error) {
	res, err := a.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{
		KeyId:      aws.String(keyID),
		PolicyName: aws.String(defaultPolicyName),
	})
	if err != nil {
		return "", wrapErr("kms", "GetKeyPolicy", keyID, err)
	}
	return aws.ToString(res.Policy), nil
}

// ListAliases returns the aliases whose name starts with prefix, sorted by
// name. It sends no Limit (kumo's Limit returns a random subset) and follows
// NextMarker while Truncated is true, as AWS documents.
func (a *AWS) ListAliases(ctx context.Context, prefix string) ([]Alias, error) {
	var out []Alias
	seen := map[string]bool{}
	in := &kms.ListAliasesInput{}
	for {
		res, err := a.kms.ListAliases(ctx, in)
		if err != nil {
			return nil, wrapErr("kms", "ListAliases", prefix, err)
		}
		for _, al := range res.Aliases {
			name := aws.ToString(al.AliasName)
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			out = append(out, Alias{Name: name, TargetKeyID: aws.ToString(al.TargetKeyId), ARN: aws.ToString(al.AliasArn)})
		}
		next, err := nextMarker(res.Truncated, res.NextMarker, seen)
		if err != nil {
			return nil, wrapErr("kms", "ListAliases", prefix, err)
		}
		if next == "" {
			break
		}
		in = &kms.ListAliasesInput{Marker: aws.String(next)}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListKeys returns the ids of all keys, following NextMarker while Truncated.
func (a *AWS) ListKeys(ctx context.Context) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	// 1,000 a page, the most AWS allows (fewer calls than the default 100;
	// kumo, which never pages, then returns up to 1,000).
	in := &kms.ListKeysInput{Limit: aws.Int32(1000)}
	for {
		res, err := a.kms.ListKeys(ctx, in)
		if err != nil {
			return nil, wrapErr("kms", "ListKeys", "", err)
		}
		for _, k := range res.Keys {
			out = append(out, aws.ToString(k.KeyId))
		}
		next, err := nextMarker(res.Truncated, res.NextMarker, seen)
		if err != nil {
			return nil, wrapErr("kms", "ListKeys", "", err)
		}
		if next == "" {
			break
		}
		in = &kms.ListKeysInput{Marker: aws.String(next), Limit: aws.Int32(1000)}
	}
	return out, nil
}

// nextMarker is the marker of the next KMS page, "" when the list is complete.
// A truncated page without a marker, or a marker seen before, is an error
// rather than an endless loop.
func nextMarker(truncated bool, marker *string, seen map[string]bool) (string, error) {
	if !truncated {
		return "", nil
	}
	m := aws.ToString(marker)
	if m == "" {
		return "", errors.New("the response is truncated but carries no NextMarker")
	}
	if seen[m] {
		return "", fmt.Errorf("the endpoint returned the marker %q twice", m)
	}
	seen[m] = true
	return m, nil
}

// CreateKey creates a symmetric encryption key (SYMMETRIC_DEFAULT,
// ENCRYPT_DECRYPT). An empty policy leaves KMS's default policy.
func (a *AWS) CreateKey(ctx context.Context, description, policy string, tags map[string]string) (Key, error) {
	in := &kms.CreateKeyInput{
		KeySpec:  kmstypes.KeySpecSymmetricDefault,
		KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt,
	}
	if description != "" {
		in.Description = aws.String(description)
	}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, kmstypes.Tag{TagKey: aws.String(k), TagValue: aws.String(tags[k])})
	}
	// Never resent once it may have reached KMS: a second CreateKey would
	// leave a second key. The caller looks for the key by its tags instead.
	res, err := a.kms.CreateKey(ctx, in, func(o *kms.Options) { o.Retryer = noResendRetryer{a.principalRetryer} })
	if err != nil {
		return Key{}, wrapErr("kms", "CreateKey", description, err)
	}
	if res.KeyMetadata == nil {
		return Key{}, wrapErr("kms", "CreateKey", description, errEmptyResponse)
	}
	return fromKeyMetadata(res.KeyMetadata), nil
}

// PutKeyPolicy replaces the key's policy ("default").
func (a *AWS) PutKeyPolicy(ctx context.Context, keyID, policy string) error {
	_, err := a.kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{
		KeyId:      aws.String(keyID),
		PolicyName: aws.String(defaultPolicyName),
		Policy:     aws.String(policy),
	}, a.withPrincipalRetry)
	return wrapErr("kms", "PutKeyPolicy", keyID, err)
}

// ListResourceTags returns all tags of a key.
func (a *AWS) ListResourceTags(ctx context.Context, keyID string) (map[string]string, error) {
	out := map[string]string{}
	p := kms.NewListResourceTagsPaginator(a.kms, &kms.ListResourceTagsInput{KeyId: aws.String(keyID)})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("kms", "ListResourceTags", keyID, err)
		}
		for _, t := range res.Tags {
			out[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
		if !res.Truncated {
			break
		}
	}
	return out, nil
}

// CreateAlias points a new alias at a key; ErrAlreadyExists when it exists.
func (a *AWS) CreateAlias(ctx context.Context, alias, keyID string) error {
	_, err := a.kms.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(alias),
		TargetKeyId: aws.String(keyID),
	})
	return wrapErr("kms", "CreateAlias", alias, err)
}

// UpdateAlias points an existing alias at another key. Where the endpoint
// lacks UpdateAlias (kumo) it deletes and re-creates the alias.
func (a *AWS) UpdateAlias(ctx context.Context, alias, keyID string) error {
	_, err := a.kms.UpdateAlias(ctx, &kms.UpdateAliasInput{
		AliasName:   aws.String(alias),
		TargetKeyId: aws.String(keyID),
	})
	err = wrapErr("kms", "UpdateAlias", alias, err)
	if !errors.Is(err, ErrUnsupported) {
		return err
	}
	// Either step may be a retry of an attempt that happened but whose
	// answer was lost: the alias already gone, or already re-created.
	if err := a.DeleteAlias(ctx, alias); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	err = a.CreateAlias(ctx, alias, keyID)
	if errors.Is(err, ErrAlreadyExists) {
		if k, derr := a.DescribeKey(ctx, alias); derr == nil && k.KeyID == keyID {
			return nil
		}
	}
	return err
}

// DeleteAlias deletes an alias; ErrNotFound when it does not exist.
func (a *AWS) DeleteAlias(ctx context.Context, alias string) error {
	_, err := a.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(alias)})
	return wrapErr("kms", "DeleteAlias", alias, err)
}

// ScheduleKeyDeletion schedules the key's deletion after days (7-30) and
// returns the deletion date.
func (a *AWS) ScheduleKeyDeletion(ctx context.Context, keyID string, days int32) (time.Time, error) {
	res, err := a.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
		KeyId:               aws.String(keyID),
		PendingWindowInDays: aws.Int32(days),
	})
	if err != nil {
		return time.Time{}, wrapErr("kms", "ScheduleKeyDeletion", keyID, err)
	}
	return aws.ToTime(res.DeletionDate), nil
}

// CancelKeyDeletion cancels a scheduled deletion and re-enables the key (AWS
// leaves a cancelled key Disabled). ErrUnsupported where the endpoint lacks
// CancelKeyDeletion (kumo).
func (a *AWS) CancelKeyDeletion(ctx context.Context, keyID string) error {
	if _, err := a.kms.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(keyID)}); err != nil {
		return wrapErr("kms", "CancelKeyDeletion", keyID, err)
	}
	_, err := a.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyID)})
	return wrapErr("kms", "EnableKey", keyID, err)
}

func fromKeyMetadata(m *kmstypes.KeyMetadata) Key {
	return Key{
		KeyID:        aws.ToString(m.KeyId),
		ARN:          aws.ToString(m.Arn),
		State:        string(m.KeyState),
		Description:  aws.ToString(m.Description),
		DeletionDate: aws.ToTime(m.DeletionDate),
		CreationDate: aws.ToTime(m.CreationDate),
	}
}

// principalRetry classifies the error KMS returns while IAM has not yet
// propagated a principal the key policy names (a just-created refresher
// role or sandbox role) as retryable: "MalformedPolicyDocumentException:
// Policy contains a statement with one or more invalid principals". It is
// used only by CreateKey and PutKeyPolicy; any other malformed policy fails
// at once.
var principalRetry = retryOn("MalformedPolicyDocumentException", "invalid principals")

// withPrincipalRetry makes one KMS call retry IAM propagation delays.
func (a *AWS) withPrincipalRetry(o *kms.Options) { o.Retryer = a.principalRetryer }

// noResendRetryer retries what its Retryer retries, except a failure after
// which the request may have been carried out: a connection reset, EOF or
// timeout while the answer was awaited (a refused dial is still retried).
type noResendRetryer struct{ aws.Retryer }

func (r noResendRetryer) IsErrorRetryable(err error) bool {
	if MayHaveHappened(err) {
		return false
	}
	return r.Retryer.IsErrorRetryable(err)
}

// MayHaveHappened reports whether err leaves it unknown if AWS carried out
// the request: the connection failed after the request was sent.
func MayHaveHappened(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return false // AWS answered
	}
	return retry.RetryableConnectionError{}.IsErrorRetryable(err) == aws.TrueTernary
}
