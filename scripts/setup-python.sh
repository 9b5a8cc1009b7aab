#!/usr/bin/env bash
# Creates the Python venv that runs the seed article's own TensorFlow program
# (test/referee/) and that supplies the libtensorflow C library for
# @tensorflow/tfjs-node (scripts/setup-tfjs-node.sh).
#
#   venv:   ${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}/venv
#   marker: <venv>/.rnn-jacobian-lab-venv-ok  (holds the pin set; a different pin
#           set, a missing marker or a broken venv means a rebuild)
#
# Idempotent: a second run with the same pins only re-checks the imports.
# Set RNN_JACOBIAN_FORCE_VENV=1 to rebuild anyway; PYTHON=/path/to/python3 to
# pick the interpreter (3.9 to 3.12; TensorFlow 2.18 has no wheels for others).
#
# Why these pins: the seed is Keras-2 code (a custom cell whose __init__ sets
# state_size, tf.keras.layers.RNN(stateful=True), tape.batch_jacobian).
# TensorFlow >= 2.16 maps tf.keras to Keras 3 unless TF_USE_LEGACY_KERAS=1 and
# the tf-keras package (Keras 2) is installed; the referee scripts set that
# variable themselves before importing TensorFlow. tensorflow-cpu is the CPU
# wheel (230 MB); tf-keras is installed with --no-deps because its metadata asks
# for the `tensorflow` distribution, which would make pip download the 615 MB
# `tensorflow` wheel on top of the identical tensorflow-cpu code.
set -euo pipefail

log() { printf '[setup-python] %s\n' "$*" >&2; }
die() { printf '[setup-python] ERROR: %s\n' "$*" >&2; exit 1; }

CACHE="${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}"
VENV="$CACHE/venv"
MARKER="$VENV/.rnn-jacobian-lab-venv-ok"
PYTHON="${PYTHON:-python3}"

TF_PIN="tensorflow-cpu==2.18.1"
TFK_PIN="tf-keras==2.18.0"
# Every other distribution in the venv, pinned to what resolved on PyPI for
# tensorflow-cpu 2.18.1 on CPython 3.11 (linux x86_64).
CONSTRAINTS="absl-py==2.5.1
astunparse==1.6.3
certifi==2026.10.19.post1
charset-normalizer==3.5.2
flatbuffers==25.12.19
gast==0.7.0
google-pasta==0.2.0
grpcio==1.85.3
h5py==3.16.0
idna==3.20
keras==3.15.1
libclang==18.1.1
Markdown==3.11.3
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
ml-dtypes==0.6.0
namex==0.1.0
numpy==2.0.2
opt-einsum==3.4.0
optree==0.20.0
packaging==26.3
protobuf==5.29.6
Pygments==2.21.0
requests==2.34.2
rich==15.0.0
six==1.17.0
tensorboard==2.18.0
tensorboard-data-server==0.7.2
tensorflow-io-gcs-filesystem==0.37.1
termcolor==3.3.0
typing-extensions==4.16.0
urllib3==2.8.0
Werkzeug==3.1.9
wheel==0.48.0
wrapt==2.5.2"
PINSET="$TF_PIN $TFK_PIN
$CONSTRAINTS"

# Import check: TensorFlow, Keras 2 through tf.keras, numpy, and the C library
# files that setup-tfjs-node.sh stages. Prints the versions.
smoke_test() {
  TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=2 "$VENV/bin/python" - <<'PY'
import os, sys
import numpy as np
import tensorflow as tf
import tf_keras
assert tf.keras.layers.Dense is tf_keras.layers.Dense, \
    "tf.keras is not Keras 2 (is TF_USE_LEGACY_KERAS=1 honoured?)"
assert tf_keras.__version__.startswith("2."), tf_keras.__version__
tfdir = os.path.dirname(tf.__file__)
for f in ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2",
          "include/tensorflow/c/c_api.h", "include/tensorflow/c/eager/c_api.h"):
    p = os.path.join(tfdir, f)
    assert os.path.exists(p), "missing " + p
x = tf.constant([[1.0, 2.0]])
assert np.allclose((x @ tf.transpose(x)).numpy(), [[5.0]])
print("python %s | tensorflow %s | tf-keras %s | numpy %s | %s" % (
    sys.version.split()[0], tf.__version__, tf_keras.__version__,
    np.__version__, tfdir))
PY
}

if [[ "${RNN_JACOBIAN_FORCE_VENV:-0}" != "1" && -f "$MARKER" && -x "$VENV/bin/python" ]] \
   && [[ "$(cat "$MARKER")" == "$PINSET" ]]; then
  log "venv already set up at $VENV (marker matches the pins); checking imports"
  if smoke_test; then
    log "OK: $VENV"
    exit 0
  fi
  log "the existing venv failed its import check; rebuilding it"
fi

command -v "$PYTHON" >/dev/null 2>&1 || die "no '$PYTHON' on PATH (set PYTHON=/path/to/python3)"
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  || die "'$PYTHON' does not run as Python"
case "$PYVER" in
  3.9|3.10|3.11|3.12) ;;
  *) die "$PYTHON is Python $PYVER; tensorflow-cpu 2.18.1 needs 3.9 to 3.12 (set PYTHON=...)" ;;
esac

start=$(date +%s)
log "creating venv at $VENV with $("$PYTHON" -c 'import sys; print(sys.executable)') (Python $PYVER)"
rm -rf "$VENV"
mkdir -p "$CACHE"
"$PYTHON" -m venv "$VENV"

CONSTRAINTS_FILE="$(mktemp)"
trap 'rm -f "$CONSTRAINTS_FILE"' EXIT
printf '%s\n' "$CONSTRAINTS" > "$CONSTRAINTS_FILE"

export PIP_DISABLE_PIP_VERSION_CHECK=1
log "pip install $TF_PIN (+ pinned dependencies); about 300 MB from PyPI"
"$VENV/bin/pip" install --no-cache-dir --progress-bar off \
  -c "$CONSTRAINTS_FILE" "$TF_PIN" numpy==2.0.2 \
  || die "pip install $TF_PIN failed (see above)"
log "pip install --no-deps $TFK_PIN"
"$VENV/bin/pip" install --no-cache-dir --progress-bar off --no-deps "$TFK_PIN" \
  || die "pip install $TFK_PIN failed (see above)"

log "import check"
smoke_test || die "the new venv failed its import check (see above)"
printf '%s' "$PINSET" > "$MARKER"
log "OK: venv ready at $VENV in $(( $(date +%s) - start )) s"
