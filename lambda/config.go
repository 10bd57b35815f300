package lambda

import (
	"errors"
	"strings"
)

// Environment variables km apply sets on the function.
const (
	EnvPrefix    = "KM_PREFIX"
	EnvRegion    = "KM_REGION"
	EnvGitHubAPI = "KM_GITHUB_API_URL"
	// envAWSRegion is set by Lambda itself; used when KM_REGION is absent.
	envAWSRegion = "AWS_REGION"
)

// Config is what the function's environment tells the handler.
type Config struct {
	Prefix string // resource name prefix, e.g. "km"
	Region string // AWS region of SSM
	APIURL string // GitHub REST API root
}

// ConfigFromEnv reads the configuration km apply puts on the function. Every
// missing variable is named in the error together with the fix.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Prefix: strings.TrimSpace(getenv(EnvPrefix)),
		Region: strings.TrimSpace(getenv(EnvRegion)),
		APIURL: strings.TrimSpace(getenv(EnvGitHubAPI)),
	}
	if c.Region == "" {
		c.Region = strings.TrimSpace(getenv(envAWSRegion))
	}
	var missing []string
	if c.Prefix == "" {
		missing = append(missing, EnvPrefix)
	}
	if c.Region == "" {
		missing = append(missing, EnvRegion+" (or AWS_REGION)")
	}
	if c.APIURL == "" {
		missing = append(missing, EnvGitHubAPI)
	}
	if len(missing) > 0 {
		return c, errors.New("the refresher's environment lacks " + strings.Join(missing, ", ") +
			"; km apply sets it on the function: run km plan / km apply to repair the function configuration")
	}
	return c, nil
}
