#!/usr/bin/env bash
# `npm test`: every suite of the project, in order. A suite whose prerequisites are missing is reported
# loudly and counts as failed — nothing is skipped silently. Install the prerequisites once with
# `bash scripts/setup.sh` (apt packages, Python venv with TensorFlow, tfjs-node, code-server).
set -uo pipefail
cd "$(dirname "$0")/.."
export RNN_JACOBIAN_CACHE="${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}"
# The three backends must all load where the project's setup ran; set it empty to allow fewer.
export RNN_JACOBIAN_REQUIRE_BACKENDS="${RNN_JACOBIAN_REQUIRE_BACKENDS-tensorflow,wasm,cpu}"

passed=0
failed=0
failures=()
log_dir="test-results/logs"
mkdir -p "$log_dir"

banner() { printf '\n\033[1m== %s ==\033[0m\n' "$1"; }
fail_suite() { failed=$((failed + 1)); failures+=("$1"); printf '\033[31m!!! %s\033[0m\n' "$1"; }

# Counts "N passing" / "N failing" from mocha's spec output.
count_mocha() {
  local out="$1" p f
  p=$(grep -Eo '^\s+[0-9]+ passing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '^\s+[0-9]+ failing' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  [ "${f:-0}" = 0 ]
}

banner "static checks: tsc --noEmit, eslint"
if npx --no-install tsc --noEmit -p tsconfig.json; then passed=$((passed + 1)); else fail_suite "typecheck failed"; fi
if npx --no-install eslint src test webview bench; then passed=$((passed + 1)); else fail_suite "eslint failed"; fi

banner "build (esbuild)"
if ! node scripts/build.mjs; then fail_suite "build failed"; echo "$passed passed, $failed failed"; exit 1; fi

banner "unit tests (engine numerics on every backend, config, CLI, webview helpers)"
npx --no-install mocha --timeout 300000 --reporter spec 'dist/test/unit/**/*.test.js' 2>&1 | tee "$log_dir/unit.txt"
count_mocha "$log_dir/unit.txt" || failures+=("unit tests")

banner "seed referee (the article's own TensorFlow program against our saved run)"
if [ -x "$RNN_JACOBIAN_CACHE/venv/bin/python" ]; then
  if bash test/referee/run-referee.sh 2>&1 | tee "$log_dir/referee.txt"; then
    passed=$((passed + $(grep -c '^REFEREE PASS' "$log_dir/referee.txt")))
  else
    fail_suite "seed referee failed"
  fi
else
  fail_suite "seed referee CANNOT RUN: no venv at $RNN_JACOBIAN_CACHE/venv (run bash scripts/setup-python.sh)"
fi

banner "extension in a real VS Code (code-server 4.100.3 + Chromium), against the packaged VSIX"
if [ -f "$RNN_JACOBIAN_CACHE/code-server-4.100.3/.install-complete" ] && [ -x /usr/bin/chromium ]; then
  if npm run --silent package && node dist/test/e2e/e2e.js 2>&1 | tee "$log_dir/e2e.txt"; then
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log_dir/e2e.txt" | tail -1)
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
  else
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log_dir/e2e.txt" | tail -1)
    if [ -n "$line" ]; then
      passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
      failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
      failures+=("e2e tests")
    else
      fail_suite "e2e suite crashed"
    fi
  fi
else
  fail_suite "e2e suite CANNOT RUN: code-server or /usr/bin/chromium missing (run bash scripts/setup-code-server.sh)"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
  printf '\033[31mFAILED:\033[0m\n'
  printf '  - %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ ${#failures[@]} = 0 ]
