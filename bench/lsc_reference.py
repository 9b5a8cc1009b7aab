"""The LSC pre-training step written the way stable_drnn does it, as the benchmark's TensorFlow reference.

One optimisation step: a GradientTape around the whole rollout; at every step an inner tape's
`batch_jacobian` of each layer's new (joint) state with respect to its previous one (and, between stacked
layers, of layer l's output with respect to layer l−1's of the same step), `tf.linalg.eig` of each Jacobian,
ρ = max |λ|; loss = mean over batch and steps of (ρ − target)²; Adam on the cell's weights. Fresh inputs and
initial states (normal(0, 1)) at every step, Keras's default initialisations.

    python bench/lsc_reference.py --cell lstm --units 128 --input-dim 16 --batch 4 --steps 8 --target 0.5 --iters 5

Prints one JSON line: milliseconds per optimisation step (after warm-up steps), wall and CPU (all threads), and ρ's
median before/after.
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402


def make_cell(kind, units):
    if kind == "simple_rnn":
        return tf.keras.layers.SimpleRNNCell(units)
    if kind == "lstm":
        return tf.keras.layers.LSTMCell(units)
    if kind == "gru":
        return tf.keras.layers.GRUCell(units, reset_after=True)
    raise SystemExit(f"unknown cell {kind}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cell", default="lstm")
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--input-dim", type=int, default=16)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--target", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--layers", type=int, default=1, help="stacked layers (each its joint state; depth Jacobians between them)")
    p.add_argument("--eager", action="store_true", help="run the step eagerly instead of as a tf.function")
    a = p.parse_args()

    tf.random.set_seed(0)
    cells = []
    for layer in range(a.layers):
        cell = make_cell(a.cell, a.units)
        cell.build((None, a.input_dim if layer == 0 else a.units))
        cells.append(cell)
    variables = [v for c in cells for v in c.trainable_variables]
    n_states = 2 if a.cell == "lstm" else 1
    opt = tf.keras.optimizers.Adam(a.lr)

    def rho_of(jac):
        eigenvalues, _ = tf.linalg.eig(jac)
        return tf.reduce_max(tf.abs(eigenvalues), axis=-1)

    def train_step():
        x = tf.random.normal([a.steps, a.batch, a.input_dim])
        states = [[tf.random.normal([a.batch, a.units]) for _ in range(n_states)] for _ in cells]
        with tf.GradientTape() as tape:
            rhos = []
            for t in range(a.steps):
                below = x[t]
                below_watched = None
                for layer, cell in enumerate(cells):
                    with tf.GradientTape(persistent=True) as inner:
                        joint_prev = tf.concat(states[layer], axis=1)
                        inner.watch(joint_prev)
                        if below_watched is not None:
                            inner.watch(below)
                        prev = tf.split(joint_prev, n_states, axis=1)
                        out, new = cell(below, prev if n_states > 1 else prev[0])
                        new = new if isinstance(new, (list, tuple)) else [new]
                        joint = tf.concat(new, axis=1)
                    rhos.append(rho_of(inner.batch_jacobian(joint, joint_prev)))  # time: [B, s, s]
                    if below_watched is not None:
                        rhos.append(rho_of(inner.batch_jacobian(out, below)))  # depth: ∂h^l_t / ∂h^(l-1)_t
                    del inner
                    states[layer] = list(new)
                    below = out
                    below_watched = True
            rho = tf.stack(rhos)
            loss = tf.reduce_mean(tf.square(rho - a.target))
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return loss, rho

    step = train_step if a.eager else tf.function(train_step)
    _, rho0 = step()
    for _ in range(a.warmup - 1):
        step()
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(a.iters):
        _, rho = step()
    ms = (time.perf_counter() - started) * 1000 / a.iters
    cpu_ms = (time.process_time() - cpu_started) * 1000 / a.iters
    median = lambda r: float(tf.experimental.numpy.median(tf.reshape(r, [-1])).numpy()) if hasattr(tf.experimental.numpy, "median") else float(sorted(tf.reshape(r, [-1]).numpy())[int(tf.size(r)) // 2])
    print(json.dumps({
        "cell": a.cell, "layers": a.layers, "units": a.units, "batch": a.batch, "steps": a.steps, "iters": a.iters,
        "mode": "eager" if a.eager else "tf.function", "ms_per_step": ms, "cpu_ms_per_step": cpu_ms,
        "rho_median_first": median(rho0), "rho_median_last": median(rho), "tensorflow": tf.__version__,
    }))


if __name__ == "__main__":
    main()
