#!/usr/bin/env bash
# Throughput of the shortlink service with and without sli instrumentation, under wrk on
# 127.0.0.1. Both variants run side by side (same binary, -instrument=true|false, each on
# its own store seeded with the same number of links); wrk alternates between them
# (ABBA order across rounds so drift cancels) on the redirect path GET /{code}, the
# cheapest handler and so the one where instrumentation weighs most.
#
#   bash bench/throughput/run.sh            # 5 rounds of 10s per variant
#   ROUNDS=3 DURATION=5s bash bench/throughput/run.sh
#
# Prints each run, the median requests/s per variant and the median of the per-round
# ratios instrumented/bare; exits 1 when that ratio is below BAR (default 0.95).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
LINKS=${LINKS:-200}
BAR=${BAR:-0.95}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl not found: apt-get install curl" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build" >&2
go build -trimpath -o "$work/shortlink" ./sample-service/cmd/shortlink

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }

start() { # name instrument → sets port_<name>
  local name=$1 instrument=$2 port
  port=$(free_port)
  "$work/shortlink" -addr "127.0.0.1:$port" -admin-addr "" -db "$work/$name.db" \
    -instrument="$instrument" -drain-delay 0 -log-level warn 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
  : >"$work/$name.codes"
  for i in $(seq "$LINKS"); do
    curl -fs -H 'Content-Type: application/json' -d "{\"url\":\"https://example.com/$i\"}" \
      "http://127.0.0.1:$port/api/v1/links" | sed -E 's/.*"code":"([A-Za-z0-9]+)".*/\1/' >>"$work/$name.codes"
  done
  eval "port_$name=$port"
}

echo "== start bare and instrumented, seed $LINKS links each" >&2
start bare false
start instr true

run() { # name → prints requests/s
  local name=$1 port out
  port=$(eval echo "\$port_$name")
  out=$(CODES="$work/$name.codes" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/throughput/redirect.lua "http://127.0.0.1:$port")
  if ! grep -q '^error responses: 0$' <<<"$out"; then
    echo "$name: unexpected statuses:" >&2; echo "$out" >&2; exit 1
  fi
  awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

printf '%-6s %-13s %14s %14s %8s\n' round order bare_rps instr_rps ratio
ratios=() bares=() instrs=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then
    b=$(run bare); i=$(run instr); order="bare,instr"
  else
    i=$(run instr); b=$(run bare); order="instr,bare"
  fi
  ratio=$(awk -v i="$i" -v b="$b" 'BEGIN {printf "%.4f", i / b}')
  printf '%-6s %-13s %14s %14s %8s\n' "$r" "$order" "$b" "$i" "$ratio"
  ratios+=("$ratio") bares+=("$b") instrs+=("$i")
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }
mb=$(median "${bares[@]}"); mi=$(median "${instrs[@]}"); mr=$(median "${ratios[@]}")
echo "median requests/s: bare $mb, instrumented $mi"
echo "median ratio instrumented/bare: $mr (bar $BAR)"
echo "setup: wrk -t$THREADS -c$CONNS -d$DURATION, GET /{code} over $LINKS links, $(nproc) CPUs, $(go version | cut -d' ' -f3)"
awk -v r="$mr" -v bar="$BAR" 'BEGIN {exit !(r >= bar)}' || { echo "FAIL: below the bar" >&2; exit 1; }
echo "PASS"
