#!/usr/bin/env bash
# Rule evaluation cost in a real Prometheus: slokit's rules against Sloth v0.16's for the
# same SLOs (one Sloth prometheus/v1 spec, read unchanged by both tools).
#
#   bash bench/rules/run.sh            # or: make bench-rules
#
# Steps: build slokit and the synthetic workload (bench/rules/synth); build Sloth v0.16 from
# the Go module proxy into a temp dir (or use $SLOTH); generate both rule files; backfill
# $HISTORY of history (raw counters plus the 5m series each tool records and reads back
# over long windows) with promtool; start the Debian Prometheus on 127.0.0.1 scraping the
# synthetic target and evaluating both rule files side by side; then report
#   - prometheus_rule_group_last_duration_seconds, summed per tool, per SLO, median over
#     $MEASURE seconds of evaluations (wall time: noisy on a busy machine), and
#   - samples touched per SLO per evaluation (totalQueryableSamples of every rule's
#     expression, queried once with stats=all: independent of machine load).
#
# Knobs (environment): SLOS (20), PODS per SLO route (10; two series each), HISTORY (72h),
# MEASURE seconds (300), SLOTH (path to a sloth binary; built when empty), KEEP=1 keeps the
# work directory.
set -euo pipefail

SLOS=${SLOS:-20}
PODS=${PODS:-10}
HISTORY=${HISTORY:-72h}
MEASURE=${MEASURE:-300}
STEP=60 # scrape and rule-evaluation interval, seconds
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/slokit-bench-rules.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

for bin in prometheus promtool; do
	command -v "$bin" >/dev/null || { echo "$bin not found: apt-get install prometheus" >&2; exit 1; }
done

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== build (work dir $W)" >&2
(cd "$ROOT" && go build -o "$W/slokit" ./cmd/slokit && go build -o "$W/synth" ./bench/rules/synth)
if [ -z "${SLOTH:-}" ]; then
	echo "== Sloth v0.16.0 from the module proxy (built once, cached by .ci/sloth.sh)" >&2
	SLOTH=$(bash "$ROOT/.ci/sloth.sh")
fi

echo "== generate rules for $SLOS SLOs" >&2
"$W/synth" spec -slos "$SLOS" >"$W/spec.yaml"
"$W/slokit" generate -q -f "$W/spec.yaml" --out - >"$W/slokit.rules.yaml"
"$SLOTH" generate -i "$W/spec.yaml" -o "$W/sloth.rules.yaml" 2>/dev/null
promtool check rules "$W/slokit.rules.yaml" "$W/sloth.rules.yaml" >&2

NOW=$(date +%s)
END=$(( (NOW / STEP) * STEP - STEP ))
ORIGIN=$(( END - 5 * 86400 ))
echo "== backfill $HISTORY of history ($SLOS SLOs x $PODS pods x 2 codes)" >&2
"$W/synth" backfill -slos "$SLOS" -pods "$PODS" -origin "$ORIGIN" -end "$END" -history "$HISTORY" -step "${STEP}s" >"$W/history.om"
promtool tsdb create-blocks-from openmetrics --max-block-duration=24h "$W/history.om" "$W/data" >/dev/null
rm -f "$W/history.om"

TPORT=$(freeport)
PPORT=$(freeport)
"$W/synth" serve -slos "$SLOS" -pods "$PODS" -origin "$ORIGIN" -listen "127.0.0.1:$TPORT" &
PIDS+=($!)
cat >"$W/prometheus.yml" <<EOF
global:
  scrape_interval: ${STEP}s
  evaluation_interval: ${STEP}s
rule_files:
  - $W/slokit.rules.yaml
  - $W/sloth.rules.yaml
scrape_configs:
  - job_name: bench
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$TPORT"]
EOF
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/data" \
	--storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$PPORT" \
	--log.level=warn >"$W/prometheus.log" 2>&1 &
PIDS+=($!)
PROM=http://127.0.0.1:$PPORT
for _ in $(seq 120); do curl -fs "$PROM/-/ready" >/dev/null 2>&1 && break; sleep 1; done
curl -fs "$PROM/-/ready" >/dev/null || { cat "$W/prometheus.log" >&2; exit 1; }

echo "== warm up: two evaluations" >&2
sleep $(( 2 * STEP + 10 ))

# Samples touched: every rule of SLO 0's groups (all SLOs are alike), evaluated once now.
read -r SLOKIT_SAMPLES SLOKIT_RULES < <("$W/synth" samples -prometheus "$PROM" -rules "$W/slokit.rules.yaml" -group "-availability-0")
read -r SLOTH_SAMPLES SLOTH_RULES < <("$W/synth" samples -prometheus "$PROM" -rules "$W/sloth.rules.yaml" -group "-availability-0")

echo "== measure prometheus_rule_group_last_duration_seconds for ${MEASURE}s" >&2
: >"$W/durations"
deadline=$(( $(date +%s) + MEASURE ))
while [ "$(date +%s)" -lt "$deadline" ]; do
	curl -fs "$PROM/metrics" | awk -v W="$W" '
		/^prometheus_rule_group_last_duration_seconds\{/ {
			if (index($0, W "/slokit.rules.yaml;")) s += $2
			if (index($0, W "/sloth.rules.yaml;")) t += $2
		}
		END { printf "%.9f %.9f\n", s, t }' >>"$W/durations"
	sleep "$STEP"
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
SLOKIT_S=$(cut -d' ' -f1 "$W/durations" | median)
SLOTH_S=$(cut -d' ' -f2 "$W/durations" | median)
N=$(wc -l <"$W/durations")
SLOKIT_GROUPS=$(grep -c '^  - name:' "$W/slokit.rules.yaml")
SLOTH_GROUPS=$(grep -c '^- name:' "$W/sloth.rules.yaml")

awk -v n="$SLOS" -v pods="$PODS" -v hist="$HISTORY" -v meas="$N" \
	-v ks="$SLOKIT_S" -v ts="$SLOTH_S" -v kq="$SLOKIT_SAMPLES" -v tq="$SLOTH_SAMPLES" \
	-v kr="$SLOKIT_RULES" -v tr="$SLOTH_RULES" -v kg="$SLOKIT_GROUPS" -v tg="$SLOTH_GROUPS" 'BEGIN {
	printf "\n%d SLOs, %d raw series per SLO, %s of history, 1m scrape and evaluation, median of %d samples\n\n", n, 2*pods, hist, meas
	printf "| | rules/SLO | groups/SLO | eval time per SLO (ms) | samples touched per SLO per eval |\n"
	printf "|---|---:|---:|---:|---:|\n"
	printf "| slokit | %d | %g | %.3f | %d |\n", kr, kg/n, 1000*ks/n, kq
	printf "| Sloth v0.16 | %d | %g | %.3f | %d |\n", tr, tg/n, 1000*ts/n, tq
	printf "| slokit / Sloth | %.2f | | %.3f | %.4f |\n", kr/tr, (ts > 0 ? ks/ts : 0), (tq > 0 ? kq/tq : 0)
}'
