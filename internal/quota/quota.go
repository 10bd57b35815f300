// Package quota is the one table of the request-rate quotas km works within:
// AWS's documented default per-API request rates for every API km calls, and
// the GitHub App's token-mint budget. km's state clients pace themselves with
// it (golang.org/x/time/rate, one bucket per row) and the test fault proxy
// enforces it, so both read the same numbers.
//
// It owns numbers and their sources only: it must not import the AWS SDK,
// net/http or any other km package.
package quota

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Limit is one token bucket: requests per second, and the APIs sharing it.
type Limit struct {
	// Bucket names the bucket ("kms:CreateKey", "ssm:writes"); km.yaml's
	// quotas section overrides a bucket by this name.
	Bucket string
	// PerSecond is the sustained rate; Burst the bucket's depth.
	PerSecond float64
	Burst     int
	// APIs are the "service:Operation" keys (IAM action spelling) that draw
	// from the bucket.
	APIs []string
	// Source says where the number comes from.
	Source string
}

// Sources of the defaults (read 2026-12):
//
//	KMS:       https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
//	           (CreateKey, CreateAlias, DeleteAlias, UpdateAlias, PutKeyPolicy,
//	           ScheduleKeyDeletion, CancelKeyDeletion 5/s; TagResource 10/s;
//	           DescribeKey 2,000/s; GetKeyPolicy 1,000/s; ListAliases, ListKeys,
//	           ListResourceTags 100/s)
//	SSM:       https://docs.aws.amazon.com/general/latest/gr/ssm.html and
//	           https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html
//	           (GetParameter/GetParameters: 40/s at standard throughput; the
//	           write APIs have no published default and throttle early in
//	           practice: modelled at 3/s shared, as issue 13 measured)
//	Scheduler: https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html
//	           (Create/Update/Delete/Get/ListSchedules 50/s, the lowest
//	           published default; *ScheduleGroup 10/s)
//	Lambda:    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
//	           (control plane 15/s across all APIs except GetFunction 100/s
//	           and Invoke, which concurrency bounds instead)
//	Logs:      https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
//	           (CreateLogGroup 5/s, PutRetentionPolicy 5/s, DescribeLogGroups 10/s)
//	IAM:       no published request rate for the IAM control plane; modelled at
//	           10/s (km makes a handful of IAM calls per apply)
//	STS:       https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
//	           (GetCallerIdentity: modelled at 100/s)
//	GitHub:    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
//	           (an App's installation token mints count against the App's JWT
//	           requests; km budgets 5,000 per hour per App, the primary limit
//	           of a GitHub App; secondary limits answer 403/429 with Retry-After)
var defaults = []Limit{
	{Bucket: "kms:CreateKey", PerSecond: 5, APIs: []string{"kms:CreateKey"}},
	{Bucket: "kms:CreateAlias", PerSecond: 5, APIs: []string{"kms:CreateAlias"}},
	{Bucket: "kms:DeleteAlias", PerSecond: 5, APIs: []string{"kms:DeleteAlias"}},
	{Bucket: "kms:UpdateAlias", PerSecond: 5, APIs: []string{"kms:UpdateAlias"}},
	{Bucket: "kms:PutKeyPolicy", PerSecond: 5, APIs: []string{"kms:PutKeyPolicy"}},
	{Bucket: "kms:ScheduleKeyDeletion", PerSecond: 5, APIs: []string{"kms:ScheduleKeyDeletion"}},
	{Bucket: "kms:CancelKeyDeletion", PerSecond: 5, APIs: []string{"kms:CancelKeyDeletion"}},
	{Bucket: "kms:TagResource", PerSecond: 10, APIs: []string{"kms:TagResource"}},
	{Bucket: "kms:DescribeKey", PerSecond: 2000, APIs: []string{"kms:DescribeKey"}},
	{Bucket: "kms:GetKeyPolicy", PerSecond: 1000, APIs: []string{"kms:GetKeyPolicy"}},
	{Bucket: "kms:ListAliases", PerSecond: 100, APIs: []string{"kms:ListAliases"}},
	{Bucket: "kms:ListKeys", PerSecond: 100, APIs: []string{"kms:ListKeys"}},
	{Bucket: "kms:ListResourceTags", PerSecond: 100, APIs: []string{"kms:ListResourceTags"}},
	{Bucket: "ssm:reads", PerSecond: 40, APIs: []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"}},
	{Bucket: "ssm:writes", PerSecond: 3, APIs: []string{"ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"}},
	{Bucket: "ssm:DescribeParameters", PerSecond: 10, APIs: []string{"ssm:DescribeParameters", "ssm:ListTagsForResource"}},
	{Bucket: "scheduler:schedules", PerSecond: 50, APIs: []string{"scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule", "scheduler:ListSchedules"}},
	{Bucket: "scheduler:groups", PerSecond: 10, APIs: []string{"scheduler:CreateScheduleGroup", "scheduler:GetScheduleGroup", "scheduler:DeleteScheduleGroup", "scheduler:ListScheduleGroups"}},
	{Bucket: "lambda:control", PerSecond: 15, APIs: []string{"lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
		"lambda:GetFunctionConfiguration", "lambda:PutFunctionRecursionConfig", "lambda:GetFunctionRecursionConfig", "lambda:ListFunctions", "lambda:AddPermission", "lambda:GetPolicy"}},
	{Bucket: "lambda:GetFunction", PerSecond: 100, APIs: []string{"lambda:GetFunction"}},
	{Bucket: "logs:CreateLogGroup", PerSecond: 5, APIs: []string{"logs:CreateLogGroup"}},
	{Bucket: "logs:PutRetentionPolicy", PerSecond: 5, APIs: []string{"logs:PutRetentionPolicy"}},
	{Bucket: "logs:DescribeLogGroups", PerSecond: 10, APIs: []string{"logs:DescribeLogGroups"}},
	{Bucket: "iam:control", PerSecond: 10, APIs: []string{"iam:GetRole", "iam:CreateRole", "iam:DeleteRole", "iam:GetRolePolicy", "iam:PutRolePolicy",
		"iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:ListRolePolicies", "iam:TagRole"}},
	{Bucket: "sts:GetCallerIdentity", PerSecond: 100, APIs: []string{"sts:GetCallerIdentity"}},
	{Bucket: "github:mints", PerSecond: 5000.0 / 3600, Burst: 100, APIs: []string{"github:CreateInstallationToken"}},
}

// Table is a set of buckets; the zero value has none (nothing is limited).
type Table struct {
	byBucket map[string]Limit
	byAPI    map[string]string // api -> bucket
}

// Default returns AWS's and GitHub's defaults.
func Default() Table {
	t := Table{byBucket: map[string]Limit{}, byAPI: map[string]string{}}
	for _, l := range defaults {
		if l.Burst == 0 {
			l.Burst = max(1, int(math.Ceil(l.PerSecond)))
		}
		t.byBucket[l.Bucket] = l
		for _, api := range l.APIs {
			t.byAPI[api] = l.Bucket
		}
	}
	return t
}

// Lookup returns the bucket an API draws from ("kms:CreateKey"); false when
// the API is not limited.
func (t Table) Lookup(api string) (Limit, bool) {
	b, ok := t.byAPI[api]
	if !ok {
		return Limit{}, false
	}
	return t.byBucket[b], true
}

// Buckets lists the buckets sorted by name.
func (t Table) Buckets() []Limit {
	out := make([]Limit, 0, len(t.byBucket))
	for _, l := range t.byBucket {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bucket < out[j].Bucket })
	return out
}

// BucketNames lists every bucket name (for error messages).
func (t Table) BucketNames() []string {
	var out []string
	for _, l := range t.Buckets() {
		out = append(out, l.Bucket)
	}
	return out
}

// With returns the table with the given buckets' rates replaced (requests per
// second; km.yaml's quotas section). An unknown bucket or a rate that is not
// positive is an error naming the valid buckets.
func (t Table) With(rates map[string]float64) (Table, error) {
	out := t.clone()
	for name, r := range rates {
		l, ok := out.byBucket[name]
		if !ok {
			return Table{}, fmt.Errorf("unknown quota bucket %q; expected one of %s", name, strings.Join(t.BucketNames(), ", "))
		}
		if !(r > 0) || math.IsInf(r, 0) {
			return Table{}, fmt.Errorf("quota %s: %v requests per second; expected a positive number", name, r)
		}
		l.PerSecond = r
		l.Burst = max(1, int(math.Ceil(r)))
		out.byBucket[name] = l
	}
	return out, nil
}

// Scaled multiplies every rate and burst by factor: a test speed-up that keeps
// the ratios between APIs (factor 100 turns a 100 s apply into 1 s).
func (t Table) Scaled(factor float64) Table {
	out := t.clone()
	for name, l := range out.byBucket {
		l.PerSecond *= factor
		l.Burst = max(1, int(math.Ceil(float64(l.Burst)*factor)))
		out.byBucket[name] = l
	}
	return out
}

func (t Table) clone() Table {
	out := Table{byBucket: make(map[string]Limit, len(t.byBucket)), byAPI: t.byAPI}
	for k, v := range t.byBucket {
		out.byBucket[k] = v
	}
	return out
}

// Bound is the least time calls can take under the table: for each bucket,
// (calls - burst) / rate; the largest. calls maps API keys to counts.
func (t Table) Bound(calls map[string]int) time.Duration {
	per := map[string]int{}
	for api, n := range calls {
		if b, ok := t.byAPI[api]; ok {
			per[b] += n
		}
	}
	var worst time.Duration
	for b, n := range per {
		l := t.byBucket[b]
		if d := time.Duration(float64(max(0, n-l.Burst)) / l.PerSecond * float64(time.Second)); d > worst {
			worst = d
		}
	}
	return worst
}

// serviceIDs maps the AWS SDK's service ids to IAM action prefixes.
var serviceIDs = map[string]string{
	"SSM": "ssm", "KMS": "kms", "Scheduler": "scheduler", "Lambda": "lambda",
	"IAM": "iam", "CloudWatch Logs": "logs", "STS": "sts",
}

// Key is the table key of an SDK call: the service id as the SDK names it
// ("CloudWatch Logs") and the operation ("CreateLogGroup") -> "logs:CreateLogGroup".
func Key(serviceID, operation string) string {
	p, ok := serviceIDs[serviceID]
	if !ok {
		p = strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
	}
	return p + ":" + operation
}
