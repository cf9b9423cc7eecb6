#!/usr/bin/env bash
# Builds (once) and caches the kube-apiserver and etcd binaries that controller-runtime's
# envtest starts for the Kubernetes test tier, then prints the directory to use as
# KUBEBUILDER_ASSETS on stdout. Progress goes to stderr.
#
# kube-apiserver is built from the Go module k8s.io/kubernetes through a throwaway wrapper
# module (nothing from k8s.io/kubernetes enters slokit's go.mod); etcd is Debian's
# etcd-server (/usr/bin/etcd). The cache is keyed by the Kubernetes version, so only the
# first run on a machine pays the build (about 15 CPU-minutes).
#
# Environment: SLOKIT_CACHE (default /var/cache/slokit), KUBE_VERSION (default v1.37.2),
# ETCD_BIN (default: etcd on PATH).
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
# The staging modules (k8s.io/api, client-go, ...) are versioned v0.<minor>.<patch>.
STAGING_VERSION=v0.${KUBE_VERSION#v1.}
CACHE=${SLOKIT_CACHE:-/var/cache/slokit}
DIR=$CACHE/kube/$KUBE_VERSION

log() { echo "kube-assets: $*" >&2; }

mkdir -p "$DIR"

if [[ ! -x $DIR/kube-apiserver ]]; then
  start=$(date +%s)
  log "building kube-apiserver $KUBE_VERSION into $DIR (first run on this machine; ~15 CPU-minutes)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mod=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION")
  moddir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$mod")
  [[ -f $moddir/go.mod ]] || { log "cannot find k8s.io/kubernetes@$KUBE_VERSION in the module cache"; exit 1; }

  # k8s.io/kubernetes replaces every staging module with ./staging/src/k8s.io/<name>, which
  # is not part of its module zip; point each at the published module of the same release.
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$moddir/go.mod")
  [[ -n $staging ]] || { log "no staging replaces found in $moddir/go.mod"; exit 1; }
  {
    echo "module slokit.local/kube-assets"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$moddir/go.mod")"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m $STAGING_VERSION"; done
    echo ")"
  } >"$work/go.mod"
  # A blank import keeps `go mod tidy` from dropping the requirement.
  printf 'package tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >"$work/tools.go"

  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (
    cd "$work"
    GOFLAGS=-mod=mod go mod tidy >&2
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" \
      -o "$work/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  )
  "$work/kube-apiserver" --version >&2
  mv "$work/kube-apiserver" "$DIR/kube-apiserver"
  log "kube-apiserver built in $(( $(date +%s) - start ))s"
else
  log "kube-apiserver $KUBE_VERSION cached in $DIR"
fi

if [[ ! -x $DIR/etcd ]]; then
  etcd=${ETCD_BIN:-$(command -v etcd || true)}
  [[ -x $etcd ]] || { log "etcd not found: install Debian's etcd-server or set ETCD_BIN"; exit 1; }
  cp "$etcd" "$DIR/etcd"
  log "etcd copied from $etcd ($("$DIR/etcd" --version | head -1))"
fi

echo "$DIR"
