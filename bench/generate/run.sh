#!/usr/bin/env bash
# Generation speed: slokit validate + generate against Sloth v0.16's generate (and its
# validate), on one Sloth prometheus/v1 file of $SLOS availability SLOs that both read
# unchanged.
#
#   bash bench/generate/run.sh         # or: make bench-generate
#
# Builds slokit and bench/rules/synth (which writes the spec), and Sloth v0.16.0 from the
# Go module proxy (.ci/sloth.sh, cached). One warm-up round, then $RUNS paired rounds,
# each running `slokit validate`, `slokit generate`, `sloth generate` and `sloth validate`
# one after the other, timed by /usr/bin/time (wall seconds and peak RSS). Reports the
# medians, the median of the per-round ratios (slokit validate+generate) / Sloth generate
# and (slokit validate+generate) / (Sloth validate+generate) (pairing keeps the ratios
# meaningful when the machine's speed drifts), peak memory and output bytes per SLO.
#
# Knobs (environment): SLOS (5000), RUNS (5), SLOTH (a sloth binary; built when empty),
# KEEP=1 keeps the work directory.
set -euo pipefail

SLOS=${SLOS:-5000}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/slokit-bench-generate.XXXXXX)
cleanup() { if [ "${KEEP:-}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi; }
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }

echo "== build (work dir $W)" >&2
(cd "$ROOT" && go build -o "$W/slokit" ./cmd/slokit && go build -o "$W/synth" ./bench/rules/synth)
SLOTH=${SLOTH:-$(bash "$ROOT/.ci/sloth.sh")}
"$W/synth" spec -slos "$SLOS" >"$W/spec.yaml"

# timed NAME CMD...: appends "wall_seconds max_rss_kb" to $W/NAME.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$W/time.tmp" "$@" >/dev/null 2>"$W/$name.err" || { cat "$W/$name.err" >&2; exit 1; }
	cat "$W/time.tmp" >>"$W/$name"
}
round() {
	timed validate "$W/slokit" validate "$W/spec.yaml"
	timed generate "$W/slokit" generate -q -f "$W/spec.yaml" --out "$W/out"
	timed sloth "$SLOTH" generate -i "$W/spec.yaml" -o "$W/sloth.rules.yaml"
	timed sloth_validate "$SLOTH" validate -i "$W/spec.yaml"
}
echo "== warm-up round, then $RUNS paired rounds ($SLOS SLOs)" >&2
round
rm -f "$W/validate" "$W/generate" "$W/sloth" "$W/sloth_validate"
for _ in $(seq "$RUNS"); do round; done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { cut -d' ' -f"$2" "$W/$1" | median; }
RATIO=$(paste -d' ' "$W/validate" "$W/generate" "$W/sloth" | awk '{print ($1 + $3) / $5}' | median)
BOTH_RATIO=$(paste -d' ' "$W/validate" "$W/generate" "$W/sloth" "$W/sloth_validate" | awk '{print ($1 + $3) / ($5 + $7)}' | median)
GEN_RATIO=$(paste -d' ' "$W/generate" "$W/sloth" | awk '{print $1 / $3}' | median)
SLOKIT_BYTES=$(cat "$W"/out/*.rules.yaml | wc -c)
SLOTH_BYTES=$(wc -c <"$W/sloth.rules.yaml")

printf '\n%d SLOs in one Sloth prometheus/v1 file (%d bytes), median of %d paired rounds\n\n' "$SLOS" "$(wc -c <"$W/spec.yaml")" "$RUNS"
printf '| command | wall s (median) | peak RSS MiB (median) | output bytes per SLO |\n|---|---:|---:|---:|\n'
printf '| slokit validate | %s | %.0f | – |\n' "$(col validate 1)" "$(echo "$(col validate 2) / 1024" | bc -l)"
printf '| slokit generate | %s | %.0f | %d |\n' "$(col generate 1)" "$(echo "$(col generate 2) / 1024" | bc -l)" $((SLOKIT_BYTES / SLOS))
printf '| Sloth v0.16 generate | %s | %.0f | %d |\n' "$(col sloth 1)" "$(echo "$(col sloth 2) / 1024" | bc -l)" $((SLOTH_BYTES / SLOS))
printf '| Sloth v0.16 validate | %s | %.0f | – |\n' "$(col sloth_validate 1)" "$(echo "$(col sloth_validate 2) / 1024" | bc -l)"
printf '\nslokit (validate + generate) / Sloth: %.3f (median of per-round ratios); generate alone / Sloth: %.3f\n' "$RATIO" "$GEN_RATIO"
printf 'slokit (validate + generate) / Sloth (validate + generate): %.3f (median of per-round ratios)\n' "$BOTH_RATIO"
