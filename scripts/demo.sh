#!/usr/bin/env bash
# make demo: the main job end to end on the local simulators.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo
bin/km-sim -dir demo >demo.log 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
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
step km list;                          bin/km list || true
echo; echo "Demo complete: the simulators stop now."
