package state

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CallerIdentity is who the credentials belong to (sts:GetCallerIdentity).
func (a *AWS) CallerIdentity(ctx context.Context) (Identity, error) {
	res, err := a.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, wrapErr("sts", "GetCallerIdentity", "", err)
	}
	return Identity{
		Account: aws.ToString(res.Account),
		ARN:     aws.ToString(res.Arn),
		UserID:  aws.ToString(res.UserId),
	}, nil
}
