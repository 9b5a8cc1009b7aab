#!/usr/bin/env bash
# Installs everything `npm test` needs beyond `npm ci`, from registries these machines reach:
#   - the Python venv with TensorFlow for the seed referee (scripts/setup-python.sh, PyPI)
#   - the tensorflow backend: tfjs-node built against that TensorFlow (scripts/setup-tfjs-node.sh)
#   - a real VS Code: code-server 4.100.3 and Debian's Chromium (scripts/setup-code-server.sh)
# Each step is idempotent and cached under ${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { printf '\n\033[1m-- %s\033[0m\n' "$1"; }
[ -d node_modules ] || { step "npm ci"; npm ci; }
step "Python venv with TensorFlow (referee)"; bash scripts/setup-python.sh
export RNN_JACOBIAN_VENV_READY=1 # setup-tfjs-node.sh takes the wheel from it without checking it again
step "tfjs-node against that TensorFlow (tensorflow backend)"; bash scripts/setup-tfjs-node.sh
step "code-server 4.100.3 + Chromium (extension tests)"; bash scripts/setup-code-server.sh
echo "setup done in $((SECONDS - start)) s"
