#!/usr/bin/env bash
# Builds (once per machine) and prints the path of Helm, which renders and lints the chart in
# infra/k8s/prooflane/ (`helm template`, `helm lint`). About 3 minutes on 2 cores, cold.
set -euo pipefail
HELM_VERSION="v3.22.0"
exec bash "$(dirname "$0")/../go-binary.sh" helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
