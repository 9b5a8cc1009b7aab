#!/usr/bin/env bash
# P1: the seed's program as written (Keras model rebuilt at every step, GradientTape + batch_jacobian)
# against our CLI on the same config, both as whole processes on this machine, in the same run, after
# a warm-up of each. Prints the median wall time of each over N runs and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}/venv/bin/python"
[ -x "$PY" ] || { echo "P1 CANNOT RUN: no venv (bash scripts/setup-python.sh)" >&2; exit 1; }
N="${N:-5}"
CONFIG="${CONFIG:-examples/seed-relu.jacobian.json}"
BACKEND="${BACKEND:-auto}"
[ -f dist/cli.js ] || node scripts/build.mjs

# Wall seconds of a whole process; its CPU seconds (user + system, all threads) go to the file $CPU_OUT.
CPU_OUT=$(mktemp)
trap 'rm -f "$CPU_OUT" "$CPU_OUT.t"' EXIT
seconds() {
  local s e; s=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$CPU_OUT.t" "$@" >/dev/null 2>&1
  e=$(date +%s.%N)
  awk '{ print $1 + $2 }' "$CPU_OUT.t" >> "$CPU_OUT"
  awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

seed=(env TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2 "$PY" test/referee/seed_program.py --activation relu --units 100 --steps 4)
ours=(node dist/cli.js analyze "$CONFIG" --quiet --backend "$BACKEND")
# Warm-up: file caches, Python bytecode, V8 code cache.
seconds "${seed[@]}" >/dev/null
seconds "${ours[@]}" >/dev/null
seed_times=(); ours_times=()
: > "$CPU_OUT"
for _ in $(seq "$N"); do
  seed_times+=("$(seconds "${seed[@]}")")
  ours_times+=("$(seconds "${ours[@]}")")
done
ms=$(printf '%s\n' "${seed_times[@]}" | median)
mo=$(printf '%s\n' "${ours_times[@]}" | median)
# The CPU file alternates seed, ours.
cs=$(awk 'NR % 2 == 1' "$CPU_OUT" | median)
co=$(awk 'NR % 2 == 0' "$CPU_OUT" | median)
printf 'P1  machine: %s, %s cores\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)"
printf 'P1  seed program (model rebuilt each step): median %.2f s over %d runs  [%s]\n' "$ms" "$N" "$(printf '%.2f ' "${seed_times[@]}")"
printf 'P1  rnn-jacobian CLI (%s, backend %s):     median %.2f s over %d runs  [%s]\n' "$CONFIG" "$BACKEND" "$mo" "$N" "$(printf '%.2f ' "${ours_times[@]}")"
printf 'P1  ratio seed/ours = %.1f×  (target ≥ 20×); CPU time (user + system): seed %.2f s, ours %.3f s, %.1f×; load average %s\n' \
  "$(awk -v a="$ms" -v b="$mo" 'BEGIN { print a / b }')" "$cs" "$co" "$(awk -v a="$cs" -v b="$co" 'BEGIN { print a / b }')" "$(cut -d' ' -f1-3 /proc/loadavg)"
