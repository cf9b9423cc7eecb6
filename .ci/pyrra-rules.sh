#!/usr/bin/env bash
# Builds the Pyrra v0.10.1 rule printer (internal/backtest/testdata/pyrrarules: the rule
# groups Pyrra's own Go packages generate, as its operator installs them) once per machine
# and prints its path. Its own module, so slokit's go.mod does not carry Pyrra's
# dependencies. Cached under ${SLOKIT_CACHE:-/var/cache/slokit}/pyrra/v0.10.1/rules-<hash>.
set -euo pipefail
cd "$(dirname "$0")/../internal/backtest/testdata/pyrrarules"
hash=$(cat go.mod go.sum main.go | sha256sum | cut -c1-12)
DIR=${SLOKIT_CACHE:-/var/cache/slokit}/pyrra/v0.10.1/rules-$hash
if [ ! -x "$DIR/pyrrarules" ]; then
	mkdir -p "$DIR"
	tmp=$(mktemp -d "$DIR/.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	GOFLAGS=-mod=mod go build -o "$tmp/pyrrarules" . >&2
	mv "$tmp/pyrrarules" "$DIR/pyrrarules"
fi
echo "$DIR/pyrrarules"
