#!/usr/bin/env bash
# Installs the Debian packages the tests drive: prometheus (with promtool: the alert rules are
# checked and fired against a running system) and chromium (the chain page is tested in it).
# Idempotent: installs only what is missing; needs root (or sudo) the first time.
set -euo pipefail
missing=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "Installing Debian packages: ${missing[*]}..." >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
  || { "${as_root[@]}" apt-get update >&2 && "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
