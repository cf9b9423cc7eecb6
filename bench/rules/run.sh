#!/usr/bin/env bash
# Rule evaluation cost in ONE real Prometheus: slokit's rules against Sloth v0.16's and
# Pyrra v0.10.1's for the same SLOs, plus an A/A control (slokit's rules loaded a second
# time under other names: its ratio to the first copy shows the harness' own noise).
#
#   bash bench/rules/run.sh            # or: make bench-rules
#
# Steps: build slokit, the synthetic workload (bench/rules/synth) and the block writer
# (bench/rules/blocks, its own module); Sloth v0.16 (.ci/sloth.sh) and Pyrra's rule
# printer (.ci/pyrra-rules.sh), both built once from the Go module proxy and cached;
# write one Sloth prometheus/v1 spec of $SLOS availability SLOs (slokit reads it
# unchanged) and the same SLOs as Pyrra ServiceLevelObjectives; generate the four rule
# files; backfill $DAYS days of the raw counters as TSDB blocks; start the Debian
# Prometheus on 127.0.0.1 scraping a synthetic target that continues the same counters,
# every rule file loaded side by side, scrape and default evaluation interval 30s.
#   State "raw": raw history only (the recorded series are minutes old).
#   State "steady": Prometheus restarted on a fresh copy of the data with $DAYS days of
#   history for EVERY series each tool records too (each recording rule's current
#   result, backfilled at its group's interval), as on a server that has run for a month.
# In each state, per tool and per SLO:
#   - eval ms: prometheus_rule_group_last_duration_seconds of the tool's groups, each
#     weighted by 30s / its group's interval (a 2m30s group costs a fifth per 30s
#     cycle), summed; median over the evaluations of $MEASURE seconds (wall time: noisy
#     on a busy machine; the A/A row shows how noisy);
#   - samples: totalQueryableSamples of every rule's expression (one stats=all query
#     each), weighted the same way: independent of machine load;
#   - rules, groups, and series: the series the rules record plus the 9 self-metrics
#     Prometheus 2.42 exports per rule group.
#
# Knobs (environment): SLOS (50), PODS per SLO route (5; two series each: codes 200 and
# 500), DAYS of history (30), MEASURE seconds per state (240), WARM seconds before
# measuring (200: every group, including 2m30s ones, has evaluated), SLOTH, PYRRA
# (binaries; built when empty), KEEP=1 keeps the work directory.
set -euo pipefail

SLOS=${SLOS:-50}
PODS=${PODS:-5}
DAYS=${DAYS:-30}
MEASURE=${MEASURE:-240}
WARM=${WARM:-200}
STEP=30 # scrape and default rule-evaluation interval, seconds
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/slokit-bench-rules.XXXXXX)
PIDS=()
PROM_PID=

cleanup() {
	for p in "${PIDS[@]}" $PROM_PID; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}" $PROM_PID; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

for bin in prometheus promtool python3; do
	command -v "$bin" >/dev/null || { echo "$bin not found: apt-get install prometheus python3" >&2; exit 1; }
done

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== build (work dir $W)" >&2
(cd "$ROOT" && go build -o "$W/slokit" ./cmd/slokit && go build -o "$W/synth" ./bench/rules/synth)
(cd "$ROOT/bench/rules/blocks" && GOFLAGS=-mod=mod go build -o "$W/blocks" .)
SLOTH=${SLOTH:-$(bash "$ROOT/.ci/sloth.sh")}
PYRRA=${PYRRA:-$(bash "$ROOT/.ci/pyrra-rules.sh")}

echo "== generate rules for $SLOS SLOs" >&2
"$W/synth" spec -slos "$SLOS" >"$W/spec.yaml"
"$W/synth" pyrra -slos "$SLOS" >"$W/pyrra.slo.yaml"
"$W/slokit" generate -q -f "$W/spec.yaml" --out - >"$W/slokit.rules.yaml"
# A/A control: the same rules, recorded series and groups renamed so both copies run.
sed 's/slokit:/slokitaa:/g; s/name: slokit-/name: slokitaa-/' "$W/slokit.rules.yaml" >"$W/slokitaa.rules.yaml"
"$SLOTH" generate -i "$W/spec.yaml" -o "$W/sloth.rules.yaml" 2>/dev/null
"$PYRRA" "$W/pyrra.slo.yaml" >"$W/pyrra.rules.yaml"
TOOLS="slokit slokitaa sloth pyrra"
for t in $TOOLS; do promtool check rules "$W/$t.rules.yaml" >/dev/null; done

T0=$(( $(date +%s) / STEP * STEP ))
FROM=$(( T0 - DAYS * 86400 ))
ORIGIN=$(( FROM - 86400 ))
echo "== backfill $DAYS days of raw counters ($SLOS SLOs x $PODS pods x 2 codes)" >&2
"$W/synth" counters -slos "$SLOS" -pods "$PODS" -origin "$ORIGIN" -step "${STEP}s" >"$W/counters.jsonl"
"$W/blocks" -from "$FROM" -to "$T0" -out "$W/raw" <"$W/counters.jsonl"

TPORT=$(freeport)
PPORT=$(freeport)
PROM=http://127.0.0.1:$PPORT
"$W/synth" serve -slos "$SLOS" -pods "$PODS" -origin "$ORIGIN" -listen "127.0.0.1:$TPORT" &
PIDS+=($!)
{
	printf 'global:\n  scrape_interval: %ss\n  evaluation_interval: %ss\nrule_files:\n' "$STEP" "$STEP"
	for t in $TOOLS; do echo "  - $W/$t.rules.yaml"; done
	printf 'scrape_configs:\n  - job_name: bench\n    honor_labels: true\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' "$TPORT"
} >"$W/prometheus.yml"

# start_prometheus DATA: no compaction of the backfilled day blocks while measuring
# (blocks of at most 2h are cut; the bench ends long before the head's first one).
start_prometheus() {
	prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$1" \
		--storage.tsdb.retention.time=$((DAYS + 10))d --storage.tsdb.min-block-duration=2h \
		--storage.tsdb.max-block-duration=2h --web.listen-address="127.0.0.1:$PPORT" \
		--log.level=warn >>"$W/prometheus.log" 2>&1 &
	PROM_PID=$!
	for _ in $(seq 300); do curl -fs "$PROM/-/ready" >/dev/null 2>&1 && return; sleep 1; done
	cat "$W/prometheus.log" >&2
	exit 1
}
stop_prometheus() { kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# measure STATE: samples touched and rules per tool, then durations every STEP seconds.
measure() {
	local state=$1
	echo "== $state: warm up ${WARM}s" >&2
	sleep "$WARM"
	for t in $TOOLS; do
		"$W/synth" samples -prometheus "$PROM" -rules "$W/$t.rules.yaml" -step "${STEP}s" >"$W/$state.$t.samples"
	done
	echo "== $state: prometheus_rule_group_last_duration_seconds for ${MEASURE}s" >&2
	: >"$W/$state.durations"
	local deadline=$(( $(date +%s) + MEASURE ))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		curl -fs "$PROM/metrics" | awk -v W="$W/" -v step="$STEP" -v tools="$TOOLS" '
			BEGIN { nt = split(tools, tt, " ") }
			function tool(line,   i) { for (i = 1; i <= nt; i++) if (index(line, W tt[i] ".rules.yaml;")) return tt[i]; return "" }
			/^prometheus_rule_group_interval_seconds\{/ { iv[tool($0) SUBSEP $1] = $2 }
			/^prometheus_rule_group_last_duration_seconds\{/ { d[tool($0) SUBSEP $1] = $2 }
			END {
				for (k in d) {
					split(k, p, SUBSEP); key = p[1] SUBSEP p[2]; sub(/last_duration_seconds/, "interval_seconds", key)
					w = (key in iv && iv[key] > 0) ? step / iv[key] : 1
					s[p[1]] += d[k] * w
				}
				line = ""
				for (i = 1; i <= nt; i++) line = line sprintf("%.9f ", s[tt[i]])
				print line
			}' >>"$W/$state.durations"
		sleep "$STEP"
	done
	local i=1
	for t in $TOOLS; do
		cut -d' ' -f$i "$W/$state.durations" | median >"$W/$state.$t.ms"
		i=$((i + 1))
	done
}

echo "== state raw: $DAYS days of raw counters, recorded series start now" >&2
cp -r "$W/raw" "$W/data1"
start_prometheus "$W/data1"
P1=$(( $(date +%s) / STEP * STEP ))
measure raw
: >"$W/recorded.jsonl"
for t in $TOOLS; do
	"$W/synth" snapshot -prometheus "$PROM" -rules "$W/$t.rules.yaml" -step "${STEP}s" >>"$W/recorded.jsonl" 2>"$W/$t.series"
done
stop_prometheus
rm -rf "$W/data1"

echo "== state steady: $DAYS days of history for every recorded series too" >&2
T1=$(( $(date +%s) / STEP * STEP ))
cat "$W/counters.jsonl" "$W/recorded.jsonl" | "$W/blocks" -from "$FROM" -to "$T1" -out "$W/data2"
start_prometheus "$W/data2"
measure steady
stop_prometheus

for t in $TOOLS; do
	series=$(grep -o '[0-9]* recorded series' "$W/$t.series" | cut -d' ' -f1)
	for s in raw steady; do
		read -r samples rules groups <"$W/$s.$t.samples"
		echo "$t $s $(cat "$W/$s.$t.ms") $samples $rules $groups $series"
	done
done >"$W/results"

awk -v n="$SLOS" -v pods="$PODS" -v days="$DAYS" -v meas="$MEASURE" '
	{ ms[$1, $2] = 1000 * $3 / n; smp[$1, $2] = $4 / n; rules[$1] = $5 / n; groups[$1] = $6 / n; series[$1] = $7 / n + 9 * $6 / n }
	END {
		printf "\n%d SLOs, %d raw series per SLO (%d bad), %d days of history, 30s scrape and default evaluation, %ds measured per state\n\n", n, 2 * pods, pods, days, meas
		printf "| tool | rules/SLO | groups/SLO | series/SLO (+ self-metrics) | eval ms/SLO raw | eval ms/SLO steady | samples/SLO raw | samples/SLO steady |\n"
		printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
		split("slokit slokitaa sloth pyrra", t, " ")
		name["slokit"] = "slokit"; name["slokitaa"] = "slokit (A/A copy)"; name["sloth"] = "Sloth v0.16"; name["pyrra"] = "Pyrra v0.10.1"
		for (i = 1; i <= 4; i++) { k = t[i]
			printf "| %s | %g | %.2f | %.2f | %.3f | %.3f | %.0f | %.0f |\n", name[k], rules[k], groups[k], series[k], ms[k, "raw"], ms[k, "steady"], smp[k, "raw"], smp[k, "steady"] }
		printf "\n| ratio | eval raw | eval steady | samples raw | samples steady |\n|---|---:|---:|---:|---:|\n"
		split("slokitaa sloth pyrra", r, " ")
		for (i = 1; i <= 3; i++) { k = r[i]
			printf "| slokit / %s | %.3f | %.3f | %.3f | %.3f |\n", name[k], ms["slokit", "raw"] / ms[k, "raw"], ms["slokit", "steady"] / ms[k, "steady"], smp["slokit", "raw"] / smp[k, "raw"], smp["slokit", "steady"] / smp[k, "steady"] }
	}' "$W/results"
