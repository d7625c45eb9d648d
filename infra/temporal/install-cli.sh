#!/usr/bin/env bash
# Finds a Temporal CLI or builds one, and prints its path on stdout (progress goes to stderr).
# Order: $TEMPORAL_CLI, `temporal` on PATH, the per-user cache, else a pinned build from the
# Go module proxy into the per-user cache (a few minutes, once per machine). Idempotent and
# safe to run concurrently.
set -euo pipefail

TEMPORAL_CLI_VERSION="v1.5.1" # Server 1.29.1; later tags carry a `replace` directive that `go install` refuses.
CACHE_DIR="${PROOFLANE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prooflane}"
CACHED_BIN="$CACHE_DIR/bin/temporal"

if [ -n "${TEMPORAL_CLI:-}" ]; then
  if [ -x "$TEMPORAL_CLI" ]; then echo "$TEMPORAL_CLI"; exit 0; fi
  echo "error: TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2
  exit 1
fi
if on_path="$(command -v temporal 2>/dev/null)"; then echo "$on_path"; exit 0; fi
if [ -x "$CACHED_BIN" ]; then echo "$CACHED_BIN"; exit 0; fi

GO="$(command -v go 2>/dev/null || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  cat >&2 <<MSG
error: no Temporal CLI found, and no Go toolchain to build one.
  Either install Go 1.24 or newer (then run this again), or install the Temporal CLI and put
  it on PATH, or point TEMPORAL_CLI at an existing binary.
MSG
  exit 1
fi

mkdir -p "$CACHE_DIR/bin"
exec 9>"$CACHE_DIR/install.lock"
flock 9
if [ -x "$CACHED_BIN" ]; then echo "$CACHED_BIN"; exit 0; fi # another run built it while we waited

staging="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
echo "Building the Temporal CLI $TEMPORAL_CLI_VERSION with $("$GO" version | cut -d' ' -f3) into $CACHE_DIR/bin (once per machine; about 3 minutes on 2 cores)..." >&2
started=$(date +%s)
GOBIN="$staging" GOFLAGS="-trimpath" "$GO" install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >&2
mv "$staging/temporal" "$CACHED_BIN"
echo "Temporal CLI ready after $(( $(date +%s) - started )) s: $CACHED_BIN" >&2
echo "$CACHED_BIN"
