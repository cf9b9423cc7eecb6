#!/usr/bin/env bash
# Installs a Go tool from the module proxy once per version into
# ${SLOKIT_CACHE:-/var/cache/slokit}/<tool>/<version>/ and prints the binary's path.
# Usage: bash .ci/tools.sh staticcheck|govulncheck|vulndb
#
# vulndb prints a file:// URL for govulncheck -db: the Go vulnerability database built
# offline from the OSV files of the golang.org/x/vulndb module (served by the module
# proxy) with that module's own indexer, cmd/indexdb. Its data is as recent as the
# module version pinned here, not live: bump VULNDB_VERSION to refresh it.
set -euo pipefail
cache=${SLOKIT_CACHE:-/var/cache/slokit}
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
case ${1:-} in
  staticcheck) mod=honnef.co/go/tools/cmd/staticcheck version=v0.8.2 ;;
  govulncheck) mod=golang.org/x/vuln/cmd/govulncheck version=v1.9.0 ;;
  vulndb)
    dir=$cache/vulndb/$VULNDB_VERSION
    if [ ! -s "$dir/db/index/db.json" ]; then
      mkdir -p "$dir"
      src=$(cd "$dir" && GOFLAGS= go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
      (cd "$dir" && GOBIN="$dir" GOFLAGS= go install "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION") >&2
      rm -rf "$dir/db.tmp" && "$dir/indexdb" -vulns "$src/data/osv" -out "$dir/db.tmp" >&2 && mv "$dir/db.tmp" "$dir/db"
    fi
    echo "file://$dir/db"
    exit 0 ;;
  *) echo "usage: $0 staticcheck|govulncheck|vulndb" >&2; exit 2 ;;
esac
dir=$cache/$1/$version
if [ ! -x "$dir/$1" ]; then
  mkdir -p "$dir"
  # Outside the module, so that the tool's dependencies do not touch slokit's go.mod.
  (cd "$dir" && GOBIN="$dir" GOFLAGS= go install "$mod@$version") >&2
fi
echo "$dir/$1"
