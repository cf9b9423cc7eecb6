#!/usr/bin/env bash
# Builds Sloth v0.16.0 (the anchor slokit's importers and rule benchmarks compare against)
# from the Go module proxy once per machine and prints the binary's path. Cached under
# ${SLOKIT_CACHE:-/var/cache/slokit}/sloth/v0.16.0; rebuilt only when missing.
set -euo pipefail
VERSION=v0.16.0
DIR=${SLOKIT_CACHE:-/var/cache/slokit}/sloth/$VERSION
if [ ! -x "$DIR/sloth" ]; then
	mkdir -p "$DIR"
	tmp=$(mktemp -d "$DIR/.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	GOFLAGS=-mod=mod GOBIN="$tmp" go install "github.com/slok/sloth/cmd/sloth@$VERSION" >&2
	mv "$tmp/sloth" "$DIR/sloth"
fi
echo "$DIR/sloth"
