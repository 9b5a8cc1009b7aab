#!/usr/bin/env python3
"""The seed article's program ("Take a Derivative wrt the Moon", 2022), as written.

Random Glorot weights, the model rebuilt inside the GradientTape at every
step (so every step draws fresh weights, as the article's loop does),
tape.batch_jacobian(h_{t}, h_{t-1}), and the article's print of
np.var(grad)*units per step.

The only changes to the article's code are:
  * the recurrent activation, which the article switches by commenting lines
    in customRNN.__init__, is chosen with --activation (relu | linear | sigmoid);
  * units, time_steps, input_dim, batch_size and the seeds are flags
    (defaults: the article's values 100, 4, 2, 1, 42);
  * the timings (wall time of the whole loop, and per step) are printed to
    stderr at the end, for the P1 benchmark (the seed's own way against our CLI).

Usage (in the venv made by scripts/setup-python.sh):
  python test/referee/seed_program.py --activation relu --units 100 --steps 4
The article reports 0.5 per step for relu and 1.0 for linear.
"""
import argparse
import os
import sys
import time

# The article is Keras-2 code; TensorFlow >= 2.16 needs this (and the tf-keras
# package) for tf.keras to be Keras 2. It must be set before TensorFlow loads.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ACTIVATIONS = ("relu", "linear", "sigmoid")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                    help="recurrent activation of customRNN (article: relu)")
parser.add_argument("--units", type=int, default=100)
parser.add_argument("--steps", type=int, default=4, help="time_steps")
parser.add_argument("--input-dim", type=int, default=2)
parser.add_argument("--batch-size", type=int, default=1)
parser.add_argument("--seed", type=int, default=42,
                    help="np.random.seed and tf.random.set_seed (article: 42)")
args = parser.parse_args()
for name in ("units", "steps", "input_dim", "batch_size"):
    if getattr(args, name) < 1:
        parser.error("--%s must be >= 1" % name.replace("_", "-"))

_t_import = time.perf_counter()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

if tuple(int(v) for v in tf.__version__.split(".")[:2]) >= (2, 16):
    import tf_keras  # noqa: E402,F401  (fails loudly when tf-keras is missing)
    if tf.keras.layers.Layer is not tf_keras.layers.Layer:
        sys.exit("seed_program: tf.keras is not Keras 2; run in the venv of "
                 "scripts/setup-python.sh (TF_USE_LEGACY_KERAS=1 + tf-keras)")
_t_import = time.perf_counter() - _t_import

from seed_model import make_seed_model  # noqa: E402  (the article's layer and build_model, verbatim)

# ---- the article's loop ----------------------------------------------------
np.random.seed(args.seed)
tf.random.set_seed(args.seed)

input_dim = args.input_dim
time_steps = args.steps
batch_size = args.batch_size
units = args.units
# The article's build_model reads the globals units, input_dim and batch_size set just above.
build_model = make_seed_model(tf, args.activation, units, input_dim, batch_size)

batch = tf.random.normal((batch_size, time_steps, input_dim))
h0 = tf.random.normal((batch_size, units))
c0 = tf.random.normal((batch_size, units))

ht, ct = h0, c0

step_seconds = []
t_loop = time.perf_counter()
for t in range(time_steps):
    t_step = time.perf_counter()
    print(t, '-' * 30)
    bt = batch[:, t, :][:, None]
    with tf.GradientTape() as tape:
        tape.watch(bt)
        tape.watch(ht)
        tape.watch(ct)
        model = build_model()
        otp1, htp1, ctp1 = model([bt, ht, ct])

    grad = tape.batch_jacobian(htp1, ht, )

    ht, ct = htp1, ctp1

    print(np.var(grad)*units)
    sys.stdout.flush()
    step_seconds.append(time.perf_counter() - t_step)
t_loop = time.perf_counter() - t_loop

print("seed_program: activation=%s units=%d steps=%d input_dim=%d batch_size=%d: "
      "tensorflow import %.3f s, loop %.3f s (%.4f s/step; first step %.4f s, "
      "median step %.4f s)" % (
          args.activation, units, time_steps, input_dim, batch_size, _t_import,
          t_loop, t_loop / time_steps, step_seconds[0],
          float(np.median(step_seconds))),
      file=sys.stderr)
