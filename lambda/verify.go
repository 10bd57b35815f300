package lambda

import "strings"

// reposString is the token metadata's repository list: short names joined
// with ",", or "*" for every repository the installation grants (the same
// rendering km plan uses).
func reposString(repos []string) string {
	if len(repos) == 0 {
		return "*"
	}
	return strings.Join(repos, ",")
}
