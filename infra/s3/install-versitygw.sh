#!/usr/bin/env bash
# Builds (once per machine) and prints the path of VersityGW, an S3-compatible gateway over a
# folder, from the Go module proxy: the object store of the tests and of a one-machine system.
# About 2 minutes on 2 cores with a cold Go cache.
set -euo pipefail
VERSITYGW_VERSION="v1.8.0"
exec bash "$(dirname "$0")/../go-binary.sh" versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
