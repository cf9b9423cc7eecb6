#!/usr/bin/env bash
# Installs a Go tool from the module proxy once per version into
# ${SLOKIT_CACHE:-/var/cache/slokit}/<tool>/<version>/ and prints the binary's path.
# Usage: bash .ci/tools.sh staticcheck|govulncheck
set -euo pipefail
cache=${SLOKIT_CACHE:-/var/cache/slokit}
case ${1:-} in
  staticcheck) mod=honnef.co/go/tools/cmd/staticcheck version=v0.8.2 ;;
  govulncheck) mod=golang.org/x/vuln/cmd/govulncheck version=v1.9.0 ;;
  *) echo "usage: $0 staticcheck|govulncheck" >&2; exit 2 ;;
esac
dir=$cache/$1/$version
if [ ! -x "$dir/$1" ]; then
  mkdir -p "$dir"
  # Outside the module, so that the tool's dependencies do not touch slokit's go.mod.
  (cd "$dir" && GOBIN="$dir" GOFLAGS= go install "$mod@$version") >&2
fi
echo "$dir/$1"
