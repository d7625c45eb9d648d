#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need, once: npm packages and the Temporal CLI; with
# --all (npm test, CI) also the PostgreSQL-backed Temporal cluster's programs, the S3 server the
# tests run against, Helm, which renders the Kubernetes chart, and Debian's prometheus and
# chromium, which the alert and chain page tests drive (`npm start -- --temporal postgres` and
# `npm run k8s:validate` build theirs on first use).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm packages..." >&2
  # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages (swc, esbuild
  # binaries) out of the lock file and then refuses its own lock under `npm ci`.
  npm install --no-audit --no-fund >&2
  touch node_modules/.package-lock.json
fi
bash infra/temporal/install-cli.sh >/dev/null
if [ "${1:-}" = "--all" ]; then
  bash infra/temporal/install-server.sh >/dev/null
  bash infra/s3/install-versitygw.sh >/dev/null
  bash infra/k8s/install-helm.sh >/dev/null
  bash infra/install-debian-packages.sh
fi
