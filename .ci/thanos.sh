#!/usr/bin/env bash
# Builds (once per machine) and caches the Thanos binary that the multi-cluster tier starts
# (sidecar, query, rule), then prints its path on stdout. Progress goes to stderr.
#
# Thanos is built from the Go module github.com/thanos-io/thanos at a pinned release. The
# module carries replace directives, so `go install pkg@version` refuses it; the script
# copies the module's source out of the module cache into a throwaway directory and builds
# ./cmd/thanos there, with the module's own go.mod and go.sum (nothing from Thanos enters
# slokit's go.mod). The release's go directive may ask for a newer Go than the machine's; the
# matching toolchain then comes from the module proxy as golang.org/toolchain (GOTOOLCHAIN).
# Build tags and version ldflags follow the release's .promu.yml (netgo, slicelabels).
#
# The cache is keyed by the Thanos version, so only the first run on a machine pays the
# build (measured on the 2-core CI machine: see docs/thanos.md). The build runs nice'd.
#
# Environment: SLOKIT_CACHE (default /var/cache/slokit), THANOS_VERSION (default v0.42.5).
set -euo pipefail

THANOS_VERSION=${THANOS_VERSION:-v0.42.5}
CACHE=${SLOKIT_CACHE:-/var/cache/slokit}
DIR=$CACHE/thanos/$THANOS_VERSION
BIN=$DIR/thanos

log() { echo "thanos: $*" >&2; }

if [[ -x $BIN ]]; then
  log "$THANOS_VERSION cached at $BIN"
  echo "$BIN"
  exit 0
fi

mkdir -p "$DIR"
# One build per machine at a time: a second caller waits and then finds the binary.
exec 9>"$DIR/.lock"
flock 9
if [[ -x $BIN ]]; then
  log "$THANOS_VERSION cached at $BIN (built while waiting for the lock)"
  echo "$BIN"
  exit 0
fi
start=$(date +%s)
log "building $THANOS_VERSION into $DIR (first run on this machine; many CPU-minutes)"
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# The release's go.mod decides the toolchain: local Go if it is new enough, else the exact
# version it asks for (downloaded once from the module proxy, cached in the module cache).
info=$(cd "$work"; GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json \
  "github.com/thanos-io/thanos@$THANOS_VERSION" || true)
gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$info")
[[ -f $gomod ]] || { log "cannot download github.com/thanos-io/thanos@$THANOS_VERSION: $info"; exit 1; }
need=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
have=$(GOTOOLCHAIN=local go env GOVERSION)
toolchain=local
if [[ $(printf '%s\n%s\n' "go$need" "$have" | sort -V | tail -1) != "$have" ]]; then
  toolchain=go$need
  log "$THANOS_VERSION needs go $need (have $have): GOTOOLCHAIN=$toolchain from the module proxy"
fi
mod=$(cd "$work" && GOFLAGS=-mod=mod GOTOOLCHAIN=$toolchain go mod download -json \
  "github.com/thanos-io/thanos@$THANOS_VERSION")
moddir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$mod")
[[ -f $moddir/go.mod ]] || { log "no source for thanos@$THANOS_VERSION in the module cache"; exit 1; }
src=$work/src
cp -r "$moddir" "$src"
chmod -R u+w "$src"

pkg=github.com/prometheus/common/version
ldflags="-s -w -X $pkg.Version=${THANOS_VERSION#v} -X $pkg.Revision=$THANOS_VERSION"
ldflags+=" -X $pkg.Branch=release -X $pkg.BuildUser=slokit-ci -X $pkg.BuildDate=19700101-00:00:00"
(
  cd "$src"
  GOTOOLCHAIN=$toolchain GOFLAGS=-mod=mod CGO_ENABLED=0 nice -n 19 go build -trimpath \
    -tags netgo,slicelabels -ldflags "$ldflags" -o "$work/thanos" ./cmd/thanos
)
"$work/thanos" --version >&2
mv "$work/thanos" "$BIN"
log "built in $(( $(date +%s) - start ))s, $(du -h "$BIN" | cut -f1) at $BIN"
echo "$BIN"
