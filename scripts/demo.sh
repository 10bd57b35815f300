#!/usr/bin/env bash
# make demo: the main job end to end on the local simulators.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo
bin/km-sim -dir demo >demo.log 2>&1 &
sim=$!
refresher=
proxy=
trap 'kill $sim $refresher $proxy 2>/dev/null; wait $sim $refresher $proxy 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -f demo/env ] && break; kill -0 $sim 2>/dev/null || { cat demo.log; exit 1; }; sleep 0.1; done
[ -f demo/env ] || { echo "km-sim did not start"; cat demo.log; exit 1; }
# shellcheck disable=SC1091
. demo/env
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
step km validate;                      bin/km validate
step km plan;                          bin/km plan
step km apply --auto-approve;          bin/km apply --auto-approve
step km plan --detailed-exitcode;      set +e; bin/km plan --detailed-exitcode; rc=$?; set -e
echo "(exit code $rc: 0 means live AWS matches the declaration)"
[ "$rc" -eq 0 ]
# The refresher is the Lambda bootstrap built for this machine, attached to
# kumo's Lambda Runtime API with the environment km apply set on the function
# (what Lambda would run for each schedule fire).
step "km-refresher (attached to kumo's Lambda Runtime API)"
fn=km-github-token-refresher
AWS_LAMBDA_RUNTIME_API="${AWS_ENDPOINT_URL#http://}/_runtime/$fn" AWS_LAMBDA_FUNCTION_NAME=$fn \
  KM_PREFIX=km KM_REGION="$AWS_REGION" KM_GITHUB_API_URL="$KM_GITHUB_API_URL" \
  bin/km-refresher-host >demo/refresher.log 2>&1 &
refresher=$!
echo "pid $refresher, log events in demo/refresher.log"
step km refresh sb-7f3a9c
# kumo routes an Invoke to the Runtime API once the process has polled it.
for i in $(seq 1 100); do
  if out=$(bin/km refresh sb-7f3a9c 2>&1); then echo "$out"; break; fi
  case $out in *"no runtime handler"*) sleep 0.1 ;; *) echo "$out"; exit 1 ;; esac
  [ "$i" -lt 100 ] || { echo "$out"; cat demo/refresher.log; exit 1; }
done
echo "refresher log event:"; head -n 1 demo/refresher.log
step km plan --detailed-exitcode;      set +e; bin/km plan --detailed-exitcode >/dev/null; rc=$?; set -e
echo "(exit code $rc: the refresher's write is exactly what plan expects)"
[ "$rc" -eq 0 ]
step km list;                          bin/km list || true

# Inside the sandbox: git asks km's askpass for the token at the moment it
# needs it (read from SSM); nothing lands in the environment, a git config or
# a file. The pre-push hook refuses refs the profile does not allow.
sbx=$PWD/demo/sandbox
export GIT_CONFIG_SYSTEM=$sbx/gitconfig GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0
step km sandbox init --sandbox-id sb-7f3a9c --root demo/sandbox --git-config demo/sandbox/gitconfig
mkdir -p "$sbx"; bin/km sandbox init --sandbox-id sb-7f3a9c --root "$sbx" --git-config "$sbx/gitconfig"
gh=$KM_GITHUB_WEB_URL
step git clone "$gh/my-user/my-repo.git"
git clone -q "$gh/my-user/my-repo.git" "$sbx/work/my-repo" && echo "cloned (allowed: my-user/my-repo)"
step git clone "$gh/my-user/other-repo.git"
if git clone -q "$gh/my-user/other-repo.git" "$sbx/work/other-repo" 2>"$sbx/denied.log"; then
  echo "cloned a repository the profile does not allow"; exit 1
fi
echo "refused, as the profile allows only my-user/my-repo: $(grep -m1 -i 'fatal' "$sbx/denied.log")"
cd "$sbx/work/my-repo"
git -c user.name=demo -c user.email=demo@example.com commit -q --allow-empty -m "demo commit"
step git push origin HEAD:main
git push -q origin HEAD:main && echo "pushed to main (allowed ref)"
step git push origin HEAD:feature/x
if git push -q origin HEAD:feature/x 2>"$sbx/push.log"; then echo "pushed a ref the profile does not allow"; exit 1; fi
echo "refused by the pre-push hook:"; grep -m2 -i "km\|allowed" "$sbx/push.log" || cat "$sbx/push.log"
cd - >/dev/null
grep -rq 'ghs_' "$sbx/gitconfig" "$sbx/etc" "$sbx/work/my-repo/.git/config" && { echo "a token landed in a file"; exit 1; }
echo; echo "no token in the git config, the sandbox settings or the clone's .git/config"

# The same sandbox behind km proxy: allowedRepos and allowedRefs are enforced on
# the wire, so skipping the hook (--no-verify) changes nothing. The proxy reads
# the settings init wrote; init then points git at it (http.proxy).
psbx=$PWD/demo/sandbox-proxy
export GIT_CONFIG_SYSTEM=$psbx/gitconfig
mkdir -p "$psbx"; bin/km sandbox init --sandbox-id sb-7f3a9c --root "$psbx" --git-config "$psbx/gitconfig" >/dev/null
step km proxy --settings demo/sandbox-proxy/etc/sandbox.json --listen 127.0.0.1:0
bin/km proxy --settings "$psbx/etc/sandbox.json" --listen 127.0.0.1:0 >"$psbx/proxy.out" 2>"$psbx/proxy.log" &
proxy=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$psbx/proxy.out" 2>/dev/null && break; kill -0 $proxy 2>/dev/null || { cat "$psbx/proxy.log"; exit 1; }; sleep 0.1; done
cat "$psbx/proxy.out"
paddr=$(sed -n 's/^km proxy: listening on //p' "$psbx/proxy.out")
[ -n "$paddr" ] || { echo "km proxy did not start"; cat "$psbx/proxy.log"; exit 1; }
step km sandbox init --sandbox-id sb-7f3a9c --root demo/sandbox-proxy --proxy "http://$paddr"
bin/km sandbox init --sandbox-id sb-7f3a9c --root "$psbx" --git-config "$psbx/gitconfig" --proxy "http://$paddr"
step git clone "$gh/my-user/my-repo.git" "(through km proxy)"
git clone -q "$gh/my-user/my-repo.git" "$psbx/work/my-repo" && echo "cloned through the proxy (allowed: my-user/my-repo)"
step git clone "$gh/my-user/other-repo.git" "(through km proxy)"
if git clone -q "$gh/my-user/other-repo.git" "$psbx/work/other-repo" 2>"$psbx/denied.log"; then
  echo "cloned a repository the profile does not allow"; exit 1
fi
echo "refused by the proxy: $(grep -m1 -i 'fatal' "$psbx/denied.log")"
grep -m1 '"repo":"my-user/other-repo"' "$psbx/proxy.log"
cd "$psbx/work/my-repo"
git -c user.name=demo -c user.email=demo@example.com commit -q --allow-empty -m "demo commit through the proxy"
step git push --no-verify origin HEAD:feature/x
if git push --no-verify origin HEAD:feature/x 2>"$psbx/push.log"; then echo "pushed a ref the profile does not allow"; exit 1; fi
echo "the hook was skipped; refused on the wire by km proxy:"; cat "$psbx/push.log"
grep -q "\[km\] Push to 'feature/x' denied" "$psbx/push.log"
step git push --no-verify origin refs/tags/main "(a tag named like an allowed branch)"
git tag main
if git push --no-verify origin refs/tags/main 2>"$psbx/tag.log"; then echo "pushed the tag main"; exit 1; fi
grep -m1 "\[km\] Push to 'refs/tags/main' denied" "$psbx/tag.log"
step git push --no-verify origin HEAD:main
git push -q --no-verify origin HEAD:main && echo "pushed to main through the proxy (allowed ref)"
cd - >/dev/null
step git ls-remote "$AWS_ENDPOINT_URL/x/y.git" "(not a GitHub host)"
if git ls-remote "$AWS_ENDPOINT_URL/x/y.git" 2>"$psbx/host.log"; then echo "reached a host outside GitHub"; exit 1; fi
echo "refused by the proxy: $(grep -m1 -i 'fatal' "$psbx/host.log")"
grep -q 'ghs_' "$psbx/proxy.log" && { echo "a token landed in the proxy log"; exit 1; }
echo "proxy decisions logged: $(grep -c '"decision":"allowed"' "$psbx/proxy.log") allowed, $(grep -c '"decision":"denied"' "$psbx/proxy.log") denied (demo/sandbox-proxy/proxy.log), no token"
echo; echo "Demo complete: the simulators stop now."
