package profiles

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// APIVersion and Kind identify a SandboxProfile document.
const (
	APIVersion = "klankermaker.ai/v1alpha1"
	Kind       = "SandboxProfile"
)

// Permissions a profile may grant.
const (
	PermClone = "clone"
	PermFetch = "fetch"
	PermPush  = "push"
)

var knownPermissions = []string{PermClone, PermFetch, PermPush}

// logRetentionDays lists the values CloudWatch Logs accepts for a retention policy.
var logRetentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

const (
	// scheduleNameMax is EventBridge Scheduler's limit on schedule names, which
	// are {prefix}-github-token-{sandbox-id}.
	scheduleNameMax = 64
	// prefixMax keeps {prefix}-github-token-refresher within Lambda's and IAM's
	// 64-character name limits.
	prefixMax = 39
)

var (
	sandboxIDRe = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	principalRe = regexp.MustCompile(`^arn:(aws|aws-[a-z]+(-[a-z]+)*):iam::([0-9]{12}):(role|user)/([A-Za-z0-9+=,.@_/-]*/)?([A-Za-z0-9+=,.@_-]+)$`)
	rootRe      = regexp.MustCompile(`^arn:aws[-a-z]*:iam::([0-9]{12}):root$`)
	accountRe   = regexp.MustCompile(`^[0-9]{12}$`)
	sessionRe   = regexp.MustCompile(`^arn:aws[-a-z]*:sts::([0-9]{12}):assumed-role/([^/]+)/`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	prefixRe    = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	loginRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
	repoNameRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	rateRe      = regexp.MustCompile(`^rate\(([0-9]+) (minute|minutes|hour|hours)\)$`)
	cronRe      = regexp.MustCompile(`^cron\(([^()]*)\)$`)
	profNameRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// CheckSandboxID explains what is wrong with a sandbox id, or returns nil.
// Ids become part of KMS alias, SSM parameter and schedule names.
func CheckSandboxID(id, prefix string) error {
	if id == "" {
		return errors.New("the sandbox id is empty; expected lowercase letters, digits and hyphens, starting with a letter")
	}
	if !sandboxIDRe.MatchString(id) {
		return fmt.Errorf("sandbox id %s is malformed; expected lowercase letters, digits and hyphens, starting with a letter (it becomes part of KMS alias and SSM parameter names)", ShowValue(id))
	}
	if len(id) > 63 {
		return fmt.Errorf("sandbox id %s is %d characters; expected at most 63", ShowValue(id), len(id))
	}
	if prefix == "" {
		prefix = "km"
	}
	if n := len(prefix) + len("-github-token-") + len(id); n > scheduleNameMax {
		return fmt.Errorf("sandbox id %s makes the schedule name %s-github-token-%s %d characters; EventBridge Scheduler allows %d, so use an id of at most %d characters",
			ShowValue(id), prefix, id, n, scheduleNameMax, scheduleNameMax-len(prefix)-len("-github-token-"))
	}
	return nil
}

// checkPrincipal explains what is wrong with a sandbox principal, or returns
// nil. The principal is the one IAM role or user the sandbox key's policy names
// as able to decrypt the sandbox's token, so it must name exactly one identity:
// an account root (or a bare account id, which means the same) would hand the
// decision to every IAM policy of that account, and an STS session ARN
// (assumed-role) names a session, not the role, and changes with it.
func CheckPrincipal(p string) error {
	const want = "expected the ARN of the sandbox's own IAM role or user, arn:aws:iam::<12-digit account>:role/NAME or :user/NAME"
	switch {
	case p == "":
		return fmt.Errorf("principal is empty; %s", want)
	case rootRe.MatchString(p) || accountRe.MatchString(p):
		return fmt.Errorf("principal %s is an account root: it would let every principal of that account whose IAM policy allows kms:Decrypt read the token; %s", ShowValue(p), want)
	case sessionRe.MatchString(p):
		m := sessionRe.FindStringSubmatch(p)
		return fmt.Errorf("principal %s is an STS session, which changes with every session; expected the role's ARN arn:aws:iam::%s:role/%s (with its path, if it has one)", ShowValue(p), m[1], m[2])
	case !principalRe.MatchString(p):
		return fmt.Errorf("principal %s is not an IAM role or user ARN; %s", ShowValue(p), want)
	}
	return nil
}

// principalIdentity is what makes two principals the same IAM identity:
// partition, account, kind and name (IAM names are unique within an account
// case-insensitively, whatever the path).
func principalIdentity(p string) string {
	m := principalRe.FindStringSubmatch(p)
	if m == nil {
		return strings.ToLower(p)
	}
	return strings.ToLower(m[1] + ":" + m[3] + ":" + m[4] + "/" + m[6])
}

func checkRegion(r string) error {
	if !regionRe.MatchString(r) {
		return fmt.Errorf("region %s is not an AWS region name; expected something like us-east-1 or eu-central-1", ShowValue(r))
	}
	return nil
}

func checkPrefix(p string) error {
	switch {
	case p == "":
		return errors.New("prefix is empty; expected letters, digits and hyphens, like km")
	case !prefixRe.MatchString(p):
		return fmt.Errorf("prefix %s has characters other than letters, digits and hyphens; expected something like km", ShowValue(p))
	case strings.HasPrefix(p, "-") || strings.HasSuffix(p, "-"):
		return fmt.Errorf("prefix %s starts or ends with a hyphen; expected it to start and end with a letter or digit", ShowValue(p))
	case len(p) > prefixMax:
		return fmt.Errorf("prefix %s is %d characters; expected at most %d (it starts Lambda and IAM role names, which allow 64)", ShowValue(p), len(p), prefixMax)
	case strings.HasPrefix(strings.ToLower(p), "aws") || strings.HasPrefix(strings.ToLower(p), "ssm"):
		return fmt.Errorf("prefix %s starts with aws or ssm, which SSM reserves for parameter names; choose another prefix", ShowValue(p))
	}
	return nil
}

// checkLogin validates a GitHub account login.
func CheckLogin(s string) error {
	if !loginRe.MatchString(s) {
		return fmt.Errorf("%s is not a GitHub account login; expected letters, digits and hyphens, starting with a letter or digit, at most 39 characters", ShowValue(s))
	}
	return nil
}

func checkSchedule(s string) error {
	if m := rateRe.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return fmt.Errorf("schedule %s: the rate must be a positive whole number", ShowValue(s))
		}
		singular := m[2] == "minute" || m[2] == "hour"
		if singular != (n == 1) {
			return fmt.Errorf("schedule %s: EventBridge Scheduler wants the unit singular for 1 and plural otherwise, like rate(1 hour) or rate(45 minutes)", ShowValue(s))
		}
		return nil
	}
	if m := cronRe.FindStringSubmatch(s); m != nil {
		if f := strings.Fields(m[1]); len(f) != 6 {
			return fmt.Errorf("schedule %s: a cron expression has 6 fields (minutes hours day-of-month month day-of-week year); found %d", ShowValue(s), len(f))
		}
		return nil
	}
	return fmt.Errorf("schedule %s is not a schedule expression; expected rate(N minutes), rate(N hours) or cron(...), like rate(45 minutes)", ShowValue(s))
}

func checkRetention(v int32) error {
	for _, d := range logRetentionDays {
		if v == d {
			return nil
		}
	}
	parts := make([]string, len(logRetentionDays))
	for i, d := range logRetentionDays {
		parts[i] = strconv.Itoa(int(d))
	}
	return fmt.Errorf("logRetentionDays %d is not a value CloudWatch Logs accepts; expected one of %s", v, strings.Join(parts, ", "))
}

// checkURL validates an http(s) URL without query or fragment.
func checkURL(key, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%s %s is not an http(s) URL; expected something like https://github.com (GHES API: https://HOST/api/v3)", key, ShowValue(s))
	}
	return nil
}

func CheckProfileName(s string) error {
	if !profNameRe.MatchString(s) || len(s) > 253 {
		return fmt.Errorf("profile name %s is malformed; expected letters, digits, '.', '_' and '-', starting with a letter or digit", ShowValue(s))
	}
	return nil
}

// ParseRepoPattern parses an allowedRepos entry: owner/repo, owner/* or "*".
func ParseRepoPattern(s string) (RepoPattern, error) {
	const expected = `expected owner/repo, owner/* or "*"`
	if s == "*" {
		return RepoPattern{Owner: "*", Repo: "*"}, nil
	}
	owner, repo, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(repo, "/") {
		return RepoPattern{}, fmt.Errorf("repo pattern %s: %s", ShowValue(s), expected)
	}
	if owner == "*" {
		return RepoPattern{}, fmt.Errorf("repo pattern %s: the owner cannot be a wildcard unless the whole pattern is \"*\"; %s", ShowValue(s), expected)
	}
	if err := CheckLogin(owner); err != nil {
		return RepoPattern{}, fmt.Errorf("repo pattern %s: owner %w", ShowValue(s), err)
	}
	if repo == "*" {
		return RepoPattern{Owner: owner, Repo: "*"}, nil
	}
	if strings.ContainsAny(repo, "*?[") {
		return RepoPattern{}, fmt.Errorf("repo pattern %s: only a whole-name * is supported in the repo part; %s", ShowValue(s), expected)
	}
	if !repoNameRe.MatchString(repo) || repo == "." || repo == ".." {
		return RepoPattern{}, fmt.Errorf("repo pattern %s: %s is not a GitHub repository name; expected letters, digits, '.', '_' and '-' (at most 100)", ShowValue(s), ShowValue(repo))
	}
	return RepoPattern{Owner: owner, Repo: repo}, nil
}

// String renders the pattern as written in a profile.
func (r RepoPattern) String() string {
	if r.Owner == "*" {
		return "*"
	}
	return r.Owner + "/" + r.Repo
}
