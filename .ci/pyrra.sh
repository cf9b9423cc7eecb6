#!/usr/bin/env bash
# Builds the Pyrra v0.10.1 anchor helper (internal/corpus/testdata/pyrrahelper: prints the
# alerting rules Pyrra's own Go packages generate) once per machine and prints its path.
# It is its own module so that slokit's go.mod does not carry Pyrra's dependencies.
# Cached under ${SLOKIT_CACHE:-/var/cache/slokit}/pyrra/v0.10.1/<hash of its sources>.
set -euo pipefail
cd "$(dirname "$0")/../internal/corpus/testdata/pyrrahelper"
hash=$(cat go.mod go.sum main.go | sha256sum | cut -c1-12)
DIR=${SLOKIT_CACHE:-/var/cache/slokit}/pyrra/v0.10.1/$hash
if [ ! -x "$DIR/pyrrahelper" ]; then
	mkdir -p "$DIR"
	tmp=$(mktemp -d "$DIR/.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	go build -o "$tmp/pyrrahelper" . >&2
	mv "$tmp/pyrrahelper" "$DIR/pyrrahelper"
fi
echo "$DIR/pyrrahelper"
