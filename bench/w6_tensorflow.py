"""W6's TensorFlow baseline: what a TensorFlow user writes for the seed cell's transition Jacobians and their
spectra. One batch_jacobian per step under a GradientTape, the Jacobians stacked, then tf.linalg.svd and
tf.linalg.eigvals on the whole stack, and var(J)·n. Prints one JSON line (times and a few values).

usage: python bench/w6_tensorflow.py [--units 512] [--steps 64] [--batch 4]"""
import argparse
import json
import time

started = time.perf_counter()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--units", type=int, default=512)
parser.add_argument("--steps", type=int, default=64)
parser.add_argument("--batch", type=int, default=4)
args = parser.parse_args()
n, T, B = args.units, args.steps, args.batch
imported = time.perf_counter()

rng = np.random.default_rng(42)
limit = np.sqrt(6 / (n + n))  # glorot_uniform, as the seed cell's recurrent kernel
W = tf.constant(rng.uniform(-limit, limit, (n, n)), tf.float32)
b = tf.zeros([n], tf.float32)
h = tf.constant(rng.normal(size=(B, n)), tf.float32)

jacobians = []
for _ in range(T):
    with tf.GradientTape() as tape:
        tape.watch(h)
        h_next = tf.nn.relu(h) @ W + b  # the seed cell's h_t = W_h·relu(h_{t-1}) + b
    jacobians.append(tape.batch_jacobian(h_next, h))
    h = h_next
J = tf.reshape(tf.stack(jacobians), [T * B, n, n])
var_times_fan_in = tf.math.reduce_variance(J, axis=[1, 2]) * n
jacobians_done = time.perf_counter()
spectral_norm = tf.linalg.svd(J, compute_uv=False)[:, 0]
spectral_radius = tf.reduce_max(tf.abs(tf.linalg.eigvals(J)), axis=1)
spectra_done = time.perf_counter()
print(json.dumps({
    "units": n, "steps": T, "batch": B,
    "importSeconds": imported - started,
    "jacobianSeconds": jacobians_done - imported,
    "spectraSeconds": spectra_done - jacobians_done,
    "varTimesFanIn0": float(var_times_fan_in[0]),
    "spectralNorm0": float(spectral_norm[0]),
    "spectralRadius0": float(spectral_radius[0]),
}))
