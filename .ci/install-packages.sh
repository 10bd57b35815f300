#!/usr/bin/env bash
# Installs the Debian packages the tests drive when they are missing:
#   chromium  the manifest-flow browser tests (internal/setup), headless
#   openssl   the key-fingerprint cross-check (internal/pemkey)
# git is needed too (real git against the smart-HTTP server).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
command -v git >/dev/null || missing+=(git)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
/usr/bin/chromium --version
