#!/usr/bin/env bash
# Usage: go-binary.sh NAME PACKAGE@VERSION
# Prints the path of NAME in the per-user cache, building PACKAGE@VERSION there with `go install`
# from the Go module proxy when it is missing (once per machine and version; progress goes to
# stderr). The cached file is named NAME-VERSION, so a pin change rebuilds. Idempotent and safe to
# run concurrently: builds take a lock and land by rename.
set -euo pipefail

name="$1"
package="$2"
version="${package##*@}"
CACHE_DIR="${PROOFLANE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prooflane}"
cached="$CACHE_DIR/bin/$name-$version"
if [ -x "$cached" ]; then echo "$cached"; exit 0; fi

GO="$(command -v go 2>/dev/null || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
if [ -z "$GO" ]; then
  echo "error: $name is not in $CACHE_DIR/bin and there is no Go toolchain to build it ($package): install Go 1.25 or newer" >&2
  exit 1
fi

mkdir -p "$CACHE_DIR/bin"
exec 9>"$CACHE_DIR/install-$name.lock"
flock 9
if [ -x "$cached" ]; then echo "$cached"; exit 0; fi # another run built it while we waited

staging="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
echo "Building $name from $package with $("$GO" version | cut -d' ' -f3) into $CACHE_DIR/bin (once per machine)..." >&2
started=$(date +%s)
GOBIN="$staging" GOFLAGS="-trimpath" "$GO" install "$package" >&2
built="$(find "$staging" -maxdepth 1 -type f -perm -u+x | head -n 1)"
[ -n "$built" ] || { echo "error: go install $package produced no binary" >&2; exit 1; }
mv "$built" "$cached"
echo "$name ready after $(( $(date +%s) - started )) s: $cached" >&2
echo "$cached"
