package state

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// ssmBatch is the most names GetParameters and DeleteParameters accept.
const ssmBatch = 10

// DescribeParameters returns the metadata (no values) of every parameter under
// path, recursively, sorted by name. It sends the Path filter with
// MaxResults 50 and follows NextToken to the end; it also filters by prefix
// itself, because some endpoints (kumo) ignore the Path filter.
func (a *AWS) DescribeParameters(ctx context.Context, path string) ([]Parameter, error) {
	p := ssm.NewDescribeParametersPaginator(a.ssm, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key:    aws.String("Path"),
			Option: aws.String("Recursive"),
			Values: []string{path},
		}},
		MaxResults: aws.Int32(50),
	})
	prefix := strings.TrimSuffix(path, "/") + "/"
	var out []Parameter
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("ssm", "DescribeParameters", path, err)
		}
		for _, m := range page.Parameters {
			name := aws.ToString(m.Name)
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			out = append(out, Parameter{
				Name:         name,
				Type:         string(m.Type),
				Description:  aws.ToString(m.Description),
				KeyID:        aws.ToString(m.KeyId),
				Version:      m.Version,
				LastModified: aws.ToTime(m.LastModifiedDate),
				ARN:          aws.ToString(m.ARN),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// GetParameters reads the named parameters in batches of 10. Names that do
// not exist are absent from the map.
func (a *AWS) GetParameters(ctx context.Context, names []string, decrypt bool) (map[string]Parameter, error) {
	out := make(map[string]Parameter, len(names))
	for batch := range chunk(names, ssmBatch) {
		res, err := a.ssm.GetParameters(ctx, &ssm.GetParametersInput{
			Names:          batch,
			WithDecryption: aws.Bool(decrypt),
		})
		if err != nil {
			return nil, wrapErr("ssm", "GetParameters", strings.Join(batch, ","), err)
		}
		for _, p := range res.Parameters {
			v := fromSSMParameter(p)
			out[v.Name] = v
		}
	}
	return out, nil
}

// GetParameter reads one parameter; ErrNotFound when it does not exist.
func (a *AWS) GetParameter(ctx context.Context, name string, decrypt bool) (Parameter, error) {
	res, err := a.ssm.GetParameter(ctx, &ssm.GetParameterInput{
		Name:           aws.String(name),
		WithDecryption: aws.Bool(decrypt),
	})
	if err != nil {
		return Parameter{}, wrapErr("ssm", "GetParameter", name, err)
	}
	if res.Parameter == nil {
		return Parameter{}, wrapErr("ssm", "GetParameter", name, errEmptyResponse)
	}
	return fromSSMParameter(*res.Parameter), nil
}

// PutParameter writes one parameter and returns its new version. A
// SecureString is encrypted with in.KeyID when set. Tags are applied with
// AddTagsToResource after the put, never sent with PutParameter (AWS rejects
// Tags together with Overwrite). ErrAlreadyExists when Overwrite is false and
// the parameter exists. The value never appears in an error.
func (a *AWS) PutParameter(ctx context.Context, in PutParameterInput) (int64, error) {
	req := &ssm.PutParameterInput{
		Name:      aws.String(in.Name),
		Value:     aws.String(in.Value),
		Overwrite: aws.Bool(in.Overwrite),
	}
	if in.Type != "" {
		req.Type = ssmtypes.ParameterType(in.Type)
	}
	if in.Description != "" {
		req.Description = aws.String(in.Description)
	}
	if in.Type == string(ssmtypes.ParameterTypeSecureString) && in.KeyID != "" {
		req.KeyId = aws.String(in.KeyID)
	}
	res, err := a.ssm.PutParameter(ctx, req)
	if err != nil {
		return 0, wrapErr("ssm", "PutParameter", in.Name, err, in.Value)
	}
	if len(in.Tags) > 0 {
		_, err := a.ssm.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
			ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
			ResourceId:   aws.String(in.Name),
			Tags:         ssmTags(in.Tags),
		})
		if err != nil {
			return res.Version, wrapErr("ssm", "AddTagsToResource", in.Name, err)
		}
	}
	return res.Version, nil
}

// ListParameterTags returns the tags of one parameter.
func (a *AWS) ListParameterTags(ctx context.Context, name string) (map[string]string, error) {
	res, err := a.ssm.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
		ResourceId:   aws.String(name),
	})
	if err != nil {
		return nil, wrapErr("ssm", "ListTagsForResource", name, err)
	}
	out := make(map[string]string, len(res.TagList))
	for _, t := range res.TagList {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out, nil
}

// DeleteParameter deletes one parameter; ErrNotFound when it does not exist.
func (a *AWS) DeleteParameter(ctx context.Context, name string) error {
	_, err := a.ssm.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	return wrapErr("ssm", "DeleteParameter", name, err)
}

// DeleteParameters deletes parameters in batches of 10; names that do not
// exist are fine.
func (a *AWS) DeleteParameters(ctx context.Context, names []string) error {
	for batch := range chunk(names, ssmBatch) {
		if _, err := a.ssm.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: batch}); err != nil {
			return wrapErr("ssm", "DeleteParameters", strings.Join(batch, ","), err)
		}
	}
	return nil
}

func fromSSMParameter(p ssmtypes.Parameter) Parameter {
	return Parameter{
		Name:         aws.ToString(p.Name),
		Type:         string(p.Type),
		Value:        aws.ToString(p.Value),
		Version:      p.Version,
		LastModified: aws.ToTime(p.LastModifiedDate),
		ARN:          aws.ToString(p.ARN),
	}
}

func ssmTags(tags map[string]string) []ssmtypes.Tag {
	out := make([]ssmtypes.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// GetParameterHistory returns every version SSM still keeps of a parameter
// (AWS keeps the last 100), oldest first, with each version's description
// and, when decrypt is set, its value (SecureString: decrypted through
// KMS). It follows NextToken to the end (MaxResults 50). Endpoints without
// the action (kumo) give an error wrapping ErrUnsupported; a parameter that
// does not exist gives ErrNotFound. The values never appear in an error.
func (a *AWS) GetParameterHistory(ctx context.Context, name string, decrypt bool) ([]Parameter, error) {
	p := ssm.NewGetParameterHistoryPaginator(a.ssm, &ssm.GetParameterHistoryInput{
		Name:           aws.String(name),
		WithDecryption: aws.Bool(decrypt),
		MaxResults:     aws.Int32(50),
	})
	var out []Parameter
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("ssm", "GetParameterHistory", name, err)
		}
		for _, h := range page.Parameters {
			out = append(out, Parameter{
				Name:         aws.ToString(h.Name),
				Type:         string(h.Type),
				Value:        aws.ToString(h.Value),
				Description:  aws.ToString(h.Description),
				KeyID:        aws.ToString(h.KeyId),
				Version:      h.Version,
				LastModified: aws.ToTime(h.LastModifiedDate),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
