#!/usr/bin/env bash
# Builds (once per machine) and prints, one per line, the paths of the three programs of a
# Temporal cluster on PostgreSQL: temporal-server, temporal-sql-tool and temporal-ui-server.
# Pinned to the release the CLI's dev server embeds, so both servers behave alike. About 6 minutes
# on 2 cores with a cold Go cache; then instant.
set -euo pipefail

TEMPORAL_SERVER_VERSION="v1.29.1"
TEMPORAL_UI_SERVER_VERSION="v2.42.1" # the Web UI the CLI v1.5.1 embeds

here="$(dirname "$0")"
bash "$here/../go-binary.sh" temporal-server "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION"
bash "$here/../go-binary.sh" temporal-sql-tool "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
bash "$here/../go-binary.sh" temporal-ui-server "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION"
