#!/usr/bin/env bash
# Installs the Debian packages km's tests and demo drive, only when missing:
#   chromium  the manifest-flow browser tests (internal/setup), headless
#   openssl   the key-fingerprint cross-check (internal/pemkey)
#   git       real git against the smart-HTTP server (tests and make demo)
#
# Usage: install-packages.sh [chromium|openssl|git ...]   (default: all three)
#
# Nothing missing: silent, exit 0. Something missing: apt-get install, through
# sudo when not root. When it cannot install (no apt-get, not root and no
# passwordless sudo, or apt-get fails) it prints one line saying what to run and
# exits 1, so `make test` stops before any test. KM_DEPS_CHROMIUM overrides the
# Chromium path checked (the browser tests use /usr/bin/chromium).
set -euo pipefail
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(chromium openssl git)
missing=()
for p in "${want[@]}"; do
  case "$p" in
    chromium) [ -x "${KM_DEPS_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium) ;;
    openssl | git) command -v "$p" >/dev/null 2>&1 || missing+=("$p") ;;
    *)
      echo "install-packages.sh: unknown package \"$p\"; expected chromium, openssl or git" >&2
      exit 2
      ;;
  esac
done
[ ${#missing[@]} -gt 0 ] || exit 0

fail() {
  echo "km: missing ${missing[*]} ($1); run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || fail "no apt-get here: install them with your package manager"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    fail "not root and sudo needs a password"
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing ${missing[*]} with apt-get" >&2
${sudo[@]+"${sudo[@]}"} apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed"
${sudo[@]+"${sudo[@]}"} apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || fail "apt-get install failed"
