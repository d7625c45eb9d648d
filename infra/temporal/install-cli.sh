#!/usr/bin/env bash
# Finds a Temporal CLI or builds one, and prints its path on stdout (progress goes to stderr).
# Order: $TEMPORAL_CLI, `temporal` on PATH, else a pinned build from the Go module proxy in the
# per-user cache (infra/go-binary.sh; about 3 minutes on 2 cores, once per machine).
set -euo pipefail

TEMPORAL_CLI_VERSION="v1.5.1" # Server 1.29.1; later tags carry a `replace` directive that `go install` refuses.

if [ -n "${TEMPORAL_CLI:-}" ]; then
  if [ -x "$TEMPORAL_CLI" ]; then echo "$TEMPORAL_CLI"; exit 0; fi
  echo "error: TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2
  exit 1
fi
if on_path="$(command -v temporal 2>/dev/null)"; then echo "$on_path"; exit 0; fi
exec bash "$(dirname "$0")/../go-binary.sh" temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
