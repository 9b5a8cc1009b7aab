#!/usr/bin/env bash
# Runs the seed's own TensorFlow program (test/referee/seed_referee.py) against our CLI's --save and
# --json for the seed cell with ReLU, linear and sigmoid recurrent activations. Prints one
# "REFEREE PASS <config>" line per config; exits non-zero on the first mismatch.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}/venv/bin/python"
[ -x "$PY" ] || { echo "REFEREE CANNOT RUN: no venv python at $PY (bash scripts/setup-python.sh)" >&2; exit 1; }
[ -f dist/cli.js ] || node scripts/build.mjs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
backend="${RNN_JACOBIAN_REFEREE_BACKEND:-auto}"
for act in relu linear sigmoid; do
  config="examples/seed-$act.jacobian.json"
  node dist/cli.js analyze "$config" --backend "$backend" --quiet --save "$work/$act" --json "$work/$act.json"
  "$PY" test/referee/seed_referee.py --save "$work/$act" --report "$work/$act.json" --activation "$act"
  echo "REFEREE PASS $config (backend $(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['backend'])" "$work/$act.json"))"
done
