#!/usr/bin/env bash
# Throughput of the shortlink service with and without sli instrumentation, under wrk on
# 127.0.0.1. Both variants run side by side (the same binary with -instrument=true|false,
# each on its own store seeded with the same links); wrk alternates between them, in ABBA
# order across rounds so that drift cancels, on the redirect path GET /{code}: the
# cheapest handler, where instrumentation weighs most.
#
#   bash bench/throughput/run.sh                 # 10 rounds of 5s per variant
#   ROUNDS=20 DURATION=3s bash bench/throughput/run.sh
#
# Per run it prints requests/s and the server's CPU time per request (utime+stime from
# /proc, which other load on the machine disturbs far less than requests/s). At the end:
# the medians per variant, the median of the per-round ratios instrumented/bare of
# requests/s, and of CPU per request bare/instrumented (the throughput ratio a CPU-bound
# server would reach). Exits 1 when the median requests/s ratio is below BAR (0.95).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-10}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
LINKS=${LINKS:-200}
BAR=${BAR:-0.95}
# alternate: one variant at a time, ABBA. paired: both at once, each under its own wrk, so
# that load from other processes on a shared machine hits both alike.
MODE=${MODE:-alternate}
[[ $MODE == alternate || $MODE == paired ]] || { echo "MODE must be alternate or paired" >&2; exit 2; }
# CONTROL=1 runs the "instrumented" server bare too (an A/A run): its ratios show the
# noise floor of this machine, which a difference must exceed to mean anything.
CONTROL=${CONTROL:-0}
# PROFILE=1 also takes a 20s CPU profile of the instrumented server under wrk (pprof on its
# admin listener) and prints the share of the server's CPU spent in sli's code: a figure
# that, unlike requests/s, the machine's other load barely moves.
PROFILE=${PROFILE:-0}

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
# The same build as the Dockerfile's, so the figures are those of the shipped binary.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/shortlink" ./sample-service/cmd/shortlink

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }

declare -A port pid aport
start() { # name instrument
  local name=$1 instrument=$2 p try
  # A free port can be taken by another process between the pick and the bind (CI runs
  # many servers at once): a service that exits with "address already in use" is
  # started again on new ports.
  for try in 1 2 3 4 5; do
    p=$(free_port)
    aport[$name]=$(free_port)
    "$work/shortlink" -addr "127.0.0.1:$p" -admin-addr "127.0.0.1:${aport[$name]}" -db "$work/$name.db" \
      -instrument="$instrument" -drain-delay 0 -log-level warn 2>"$work/$name.log" &
    pid[$name]=$!
    port[$name]=$p
    for _ in $(seq 100); do
      curl -fs "http://127.0.0.1:$p/readyz" >/dev/null && break
      kill -0 "${pid[$name]}" 2>/dev/null || break
      sleep 0.1
    done
    if ! kill -0 "${pid[$name]}" 2>/dev/null && grep -q 'address already in use' "$work/$name.log"; then
      echo "$name: port taken between pick and bind (try $try), picking again" >&2
      continue
    fi
    break
  done
  pids+=("${pid[$name]}")
  curl -fs "http://127.0.0.1:$p/readyz" >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
  : >"$work/$name.codes"
  for i in $(seq "$LINKS"); do
    curl -fs -H 'Content-Type: application/json' -d "{\"url\":\"https://example.com/$i\"}" \
      "http://127.0.0.1:$p/api/v1/links" | sed -E 's/.*"code":"([A-Za-z0-9]+)".*/\1/' >>"$work/$name.codes"
  done
}

echo "== start bare and instrumented, seed $LINKS links each" >&2
start bare false
if [[ $CONTROL == 1 ]]; then start instr false; else start instr true; fi

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime+stime in clock ticks
HZ=$(getconf CLK_TCK)

wrk_on() { # name → wrk output in $work/name.out
  CODES="$work/$1.codes" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/throughput/redirect.lua \
    "http://127.0.0.1:${port[$1]}" >"$work/$1.out"
}

result() { # name t0 t1 → prints "requests/s cpu_us_per_request"
  local out n
  out=$(cat "$work/$1.out")
  if ! grep -q '^error responses: 0$' <<<"$out" || grep -q 'Non-2xx or 3xx' <<<"$out"; then
    echo "$1: unexpected statuses:" >&2; echo "$out" >&2; exit 1
  fi
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" -v d=$(($3 - $2)) -v hz="$HZ" -v n="$n" \
    'BEGIN {printf "%s %.2f\n", rps, d / hz * 1e6 / n}'
}

run() { # name → prints "requests/s cpu_us_per_request", one variant alone
  local t0 t1
  t0=$(ticks "${pid[$1]}")
  wrk_on "$1"
  t1=$(ticks "${pid[$1]}")
  result "$1" "$t0" "$t1"
}

paired() { # → sets b and i, both variants loaded at the same time
  local bt0 it0 bt1 it1 w1 w2
  bt0=$(ticks "${pid[bare]}"); it0=$(ticks "${pid[instr]}")
  wrk_on bare & w1=$!
  wrk_on instr & w2=$!
  wait "$w1" "$w2"
  bt1=$(ticks "${pid[bare]}"); it1=$(ticks "${pid[instr]}")
  b=$(result bare "$bt0" "$bt1"); i=$(result instr "$it0" "$it1")
}

printf '%-6s %-11s %12s %12s %8s %14s %14s %8s\n' round order bare_rps instr_rps ratio bare_cpu_us instr_cpu_us cpu_ratio
ratios=() cratios=() bares=() instrs=() bcpus=() icpus=()
for r in $(seq "$ROUNDS"); do
  if [[ $MODE == paired ]]; then
    paired; order=paired
  elif (( r % 2 )); then
    b=$(run bare); i=$(run instr); order="bare,instr"
  else
    i=$(run instr); b=$(run bare); order="instr,bare"
  fi
  read -r brps bcpu <<<"$b"
  read -r irps icpu <<<"$i"
  ratio=$(awk -v i="$irps" -v b="$brps" 'BEGIN {printf "%.4f", i / b}')
  cratio=$(awk -v i="$icpu" -v b="$bcpu" 'BEGIN {printf "%.4f", b / i}')
  printf '%-6s %-11s %12s %12s %8s %14s %14s %8s\n' "$r" "$order" "$brps" "$irps" "$ratio" "$bcpu" "$icpu" "$cratio"
  ratios+=("$ratio") cratios+=("$cratio") bares+=("$brps") instrs+=("$irps") bcpus+=("$bcpu") icpus+=("$icpu")
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }
if [[ $PROFILE == 1 ]]; then
  echo "== profile the instrumented server for 20s under wrk" >&2
  (DURATION=22s wrk_on instr) & w=$!
  sleep 1
  curl -fs "http://127.0.0.1:${aport[instr]}/debug/pprof/profile?seconds=20" >"$work/instr.pprof"
  wait "$w"
  # Samples in sli's frames, not counting the handler it wraps (the shortlink chain
  # below it starts at recoverPanics).
  share=$(go tool pprof -top -focus='slokit/sli' -ignore='recoverPanics' "$work/shortlink" "$work/instr.pprof" 2>/dev/null \
    | awk '/^Showing nodes accounting for/ {gsub(/,/, ""); print $5 " of " $8 " CPU (" $6 ")"}')
  echo "profile: sli's own code took ${share:-no samples}"
fi

mr=$(median "${ratios[@]}")
echo "median requests/s: bare $(median "${bares[@]}"), instrumented $(median "${instrs[@]}")"
echo "median server CPU per request (us): bare $(median "${bcpus[@]}"), instrumented $(median "${icpus[@]}")"
echo "median ratio of CPU per request, bare/instrumented: $(median "${cratios[@]}")"
echo "median ratio instrumented/bare: $mr (bar $BAR)"
echo "setup: $MODE$([[ $CONTROL == 1 ]] && echo ", CONTROL (A/A: both bare)"), wrk -t$THREADS -c$CONNS -d$DURATION, GET /{code} over $LINKS links, $(nproc) CPUs, $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v r="$mr" -v bar="$BAR" 'BEGIN {exit !(r >= bar)}' || { echo "FAIL: below the bar" >&2; exit 1; }
echo "PASS"
