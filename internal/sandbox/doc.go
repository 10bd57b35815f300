// Package sandbox owns what km installs inside a sandbox so that git gets the
// sandbox's GitHub token without the token ever being exported, configured or
// written to disk:
//
//   - Settings: the small, non-secret settings file (sandbox id, region, prefix,
//     git host, allowed refs, owner → SSM parameter) written by `km sandbox init`
//     and read again by the helpers every time git calls them;
//   - Init: writes the askpass wrapper, the pre-push hook and the settings file
//     under a root folder and points git at them (core.askPass, core.hooksPath,
//     credential.<host>.useHttpPath), and with a proxy at km proxy
//     (http.proxy, http.sslCAInfo);
//   - Askpass: answers git's Username/Password prompts for the GitHub host only,
//     reading the owner's token from SSM at the moment git asks;
//   - PrePush: the pre-push hook's decision, refusing pushes to refs outside the
//     profile's allowedRefs (profiles.PushRefAllowed: branches by name, tags
//     only by refs/tags/ patterns; the rule km proxy applies on the wire).
//
// The pre-push hook is client-side: `git push --no-verify`,
// `git -c core.hooksPath= push` or a repository-local core.hooksPath bypass it.
// It is a guard rail; internal/proxy is the boundary.
//
// It must not import the AWS SDK (it reads SSM through ParameterReader),
// reconcile, internal/githubapp or cmd/*.
package sandbox
