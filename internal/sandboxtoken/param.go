package sandboxtoken

import "strings"

// SandboxPath is the SSM folder of all sandboxes' parameters.
func SandboxPath() string { return "/sandbox" }

// SandboxFolder is the SSM folder of one sandbox's parameters.
func SandboxFolder(sandboxID string) string { return SandboxPath() + "/" + sandboxID }

// Param is the token parameter of a sandbox for owner. The first owner's
// token (first == true) lives at the original single-owner name
// /sandbox/{id}/github-token; every other owner's at
// /sandbox/{id}/github-token-{owner}.
func Param(sandboxID, owner string, first bool) string {
	if first {
		return SandboxFolder(sandboxID) + "/github-token"
	}
	return SandboxFolder(sandboxID) + "/github-token-" + strings.ToLower(owner)
}

// ParamPatterns are the names of every token parameter a sandbox may have,
// as IAM resource patterns ("*" matches any owner).
func ParamPatterns(sandboxID string) []string {
	return []string{Param(sandboxID, "", true), Param(sandboxID, "", true) + "-*"}
}

// ParamOwner tells whether param is one of sandbox id's token
// parameters: the first owner's /sandbox/{id}/github-token (first, owner "")
// or /sandbox/{id}/github-token-{owner} with a lowercase GitHub login.
func ParamOwner(sandboxID, param string) (owner string, first, ok bool) {
	base := Param(sandboxID, "", true)
	if param == base {
		return "", true, true
	}
	o, ok := strings.CutPrefix(param, base+"-")
	if !ok || !validLogin(o) {
		return "", false, false
	}
	return o, false, true
}

// validLogin: a lowercase GitHub account login (letters, digits, single
// hyphens, "_" for managed users,
// 1-39 characters).
func validLogin(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
