#!/usr/bin/env python3
"""Referee: the seed article's own TensorFlow program checks what our CLI saved.

Builds the article's customRNN / build_model() exactly as written (Keras 2
API, recurrent activation chosen with --activation), loads the parameters,
initial states and inputs that `rnn-jacobian ... --save DIR` wrote, and runs
the article's loop: at every step a GradientTape watching bt, ht, ct, the
model rebuilt (as the article does) with the saved weights set, and
tape.batch_jacobian(htp1, ht). It prints the article's np.var(grad)*units per
step and compares:

  (a) its batch_jacobian with our saved Jacobian of h@t wrt h@t-1:
      max|diff| <= 1e-5 * max|J_referee| (per step);
  (b) its trajectory h, c, o with ours:
      max|diff| <= 1e-5 * max|referee array| (over all steps);
  (c) its np.var(grad)*units with varTimesFanIn in our --json report:
      |diff| <= 1e-4 (per step; with batch > 1 the article's pooled number is
      compared with the pooled variance of our saved Jacobian, and each batch
      element's var*units with our per-element number).

Exit status: 0 all checks pass; 1 some check failed (a table says which);
2 bad input (missing or malformed files, shapes, schema, flags);
3 internal error of the referee itself.

Usage (in the venv of scripts/setup-python.sh):
  python test/referee/seed_referee.py --save DIR --report REPORT.json --activation relu
"""
import argparse
import json
import os
import sys
import traceback

# The article is Keras-2 code; TensorFlow >= 2.16 needs this (and the tf-keras
# package) for tf.keras to be Keras 2. It must be set before TensorFlow loads.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ACTIVATIONS = ("relu", "linear", "sigmoid")
REL_TOL = 1e-5          # (a) and (b): relative to the referee's max |value|
VAR_ABS_TOL = 1e-4      # (c): absolute, on var * units
PAIR_OF, PAIR_WRT = "h@t", "h@t-1"


class BadInput(Exception):
    """The save dir, the report or the flags cannot be checked (exit 2)."""


# ---------------------------------------------------------------------------
# Reading the --save DIR and the --json report
# ---------------------------------------------------------------------------
def load_json(path, what):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise BadInput("%s not found: %s" % (what, path))
    except (OSError, ValueError) as e:
        raise BadInput("%s unreadable (%s): %s" % (what, e, path))


def load_npy(np, save_dir, entry, expected_shape):
    rel = entry.get("file")
    if not isinstance(rel, str) or not rel:
        raise BadInput("manifest entry without a file name: %r" % (entry,))
    path = os.path.join(save_dir, rel)
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise BadInput("file named in manifest.json is missing: %s" % path)
    except (OSError, ValueError) as e:
        raise BadInput("not a readable .npy file (%s): %s" % (e, path))
    if arr.dtype != np.dtype("<f4"):
        raise BadInput("%s: dtype %s, expected little-endian float32 (<f4)"
                       % (rel, arr.dtype.str))
    if list(arr.shape) != list(expected_shape):
        raise BadInput("%s: shape %s, expected %s"
                       % (rel, list(arr.shape), list(expected_shape)))
    if "shape" in entry and list(entry["shape"]) != list(arr.shape):
        raise BadInput("%s: manifest says shape %s, the file holds %s"
                       % (rel, entry["shape"], list(arr.shape)))
    if not np.all(np.isfinite(arr)):
        raise BadInput("%s holds NaN or Inf" % rel)
    return arr


def find_entry(files, kind, tensor):
    hits = [f for f in files if f.get("kind") == kind and f.get("tensor") == tensor]
    if not hits:
        raise BadInput("manifest.json has no entry with kind=%r tensor=%r" % (kind, tensor))
    if len(hits) > 1:
        raise BadInput("manifest.json has %d entries with kind=%r tensor=%r"
                       % (len(hits), kind, tensor))
    return hits[0]


def read_save(np, save_dir, activation_flag):
    manifest = load_json(os.path.join(save_dir, "manifest.json"), "manifest.json")
    if not isinstance(manifest, dict):
        raise BadInput("manifest.json is not a JSON object")
    if manifest.get("schemaVersion") != 1:
        raise BadInput("manifest.json schemaVersion is %r, this referee reads 1"
                       % manifest.get("schemaVersion"))
    if manifest.get("cell") != "seed":
        raise BadInput("manifest.json cell is %r; the referee only knows the seed "
                       "article's cell ('seed')" % manifest.get("cell"))
    act = manifest.get("activation")
    if act not in ACTIVATIONS:
        raise BadInput("manifest.json activation %r is not one of %s" % (act, ACTIVATIONS))
    if activation_flag is not None and activation_flag != act:
        raise BadInput("--activation %s but the save was made with activation %s"
                       % (activation_flag, act))
    dims = {}
    for key in ("units", "inputDim", "timeSteps", "batchSize"):
        v = manifest.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise BadInput("manifest.json %s must be a positive integer, got %r" % (key, v))
        dims[key] = v
    U, D, T, B = dims["units"], dims["inputDim"], dims["timeSteps"], dims["batchSize"]
    files = manifest.get("files")
    if not isinstance(files, list):
        raise BadInput("manifest.json has no files list")

    s = {"activation": act, "units": U, "input_dim": D, "steps": T, "batch": B}
    s["K_rec"] = load_npy(np, save_dir, find_entry(files, "param", "linear_rec/kernel"), [U, U])
    s["b_rec"] = load_npy(np, save_dir, find_entry(files, "param", "linear_rec/bias"), [U])
    s["K_in"] = load_npy(np, save_dir, find_entry(files, "param", "linear_in/kernel"), [D, U])
    s["h"] = load_npy(np, save_dir, find_entry(files, "state", "h"), [T + 1, B, U])
    s["c"] = load_npy(np, save_dir, find_entry(files, "state", "c"), [T + 1, B, U])
    s["x"] = load_npy(np, save_dir, find_entry(files, "input", "x"), [T, B, D])
    s["o"] = load_npy(np, save_dir, find_entry(files, "output", "o"), [T, B, U])

    jac = [f for f in files if f.get("kind") == "jacobian"
           and f.get("of") == PAIR_OF and f.get("wrt") == PAIR_WRT]
    if len(jac) != 1:
        raise BadInput("manifest.json needs exactly one jacobian entry of=%r wrt=%r, found %d"
                       % (PAIR_OF, PAIR_WRT, len(jac)))
    steps = jac[0].get("steps")
    if (not isinstance(steps, list) or not steps
            or not all(isinstance(t, int) and not isinstance(t, bool) for t in steps)
            or len(set(steps)) != len(steps)
            or not all(1 <= t <= T for t in steps)):
        raise BadInput("jacobian entry steps must be distinct integers in 1..%d, got %r"
                       % (T, steps))
    s["J"] = load_npy(np, save_dir, jac[0], [len(steps), B, U, U])
    s["J_steps"] = steps
    return s


def read_report(path, T, B):
    rep = load_json(path, "report")
    if not isinstance(rep, dict):
        raise BadInput("report is not a JSON object")
    if rep.get("schemaVersion") != 1:
        raise BadInput("report schemaVersion is %r, this referee reads 1"
                       % rep.get("schemaVersion"))
    jl = rep.get("jacobians")
    if not isinstance(jl, list):
        raise BadInput("report has no jacobians list")
    hits = [j for j in jl if isinstance(j, dict)
            and j.get("of") == PAIR_OF and j.get("wrt") == PAIR_WRT]
    if len(hits) != 1:
        raise BadInput("report needs exactly one jacobians entry of=%r wrt=%r, found %d"
                       % (PAIR_OF, PAIR_WRT, len(hits)))
    steps = hits[0].get("steps")
    if not isinstance(steps, list):
        raise BadInput("report jacobians[%s wrt %s].steps is not a list" % (PAIR_OF, PAIR_WRT))
    by_t = {}
    for st in steps:
        t = st.get("t") if isinstance(st, dict) else None
        v = st.get("varTimesFanIn") if isinstance(st, dict) else None
        if not isinstance(t, int) or isinstance(t, bool):
            raise BadInput("report step without an integer t: %r" % (st,))
        if (not isinstance(v, list) or len(v) != B
                or not all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in v)):
            raise BadInput("report step t=%d: varTimesFanIn must be a list of %d numbers, got %r"
                           % (t, B, v))
        if t in by_t:
            raise BadInput("report lists step t=%d twice" % t)
        by_t[t] = [float(e) for e in v]
    return by_t, hits[0].get("expected")


# ---------------------------------------------------------------------------
# The article's model (activation_rec picked by --activation)
# ---------------------------------------------------------------------------
from seed_model import make_seed_model  # noqa: E402  (the article's code, shared with seed_program.py)


def set_saved_weights(model, s):
    """Puts the saved parameters into the article's cell of a fresh model."""
    rnns = [l for l in model.layers if hasattr(l, "cell")]
    if len(rnns) != 1:
        raise RuntimeError("expected one RNN layer in the article's model, found %d" % len(rnns))
    cell = rnns[0].cell
    cell.linear_rec.set_weights([s["K_rec"], s["b_rec"]])
    cell.linear_in.set_weights([s["K_in"]])


# ---------------------------------------------------------------------------
# The article's loop, with the saved weights and states
# ---------------------------------------------------------------------------
def run_seed_loop(tf, np, s):
    build_model = make_seed_model(tf, s["activation"], s["units"], s["input_dim"], s["batch"])
    units = s["units"]
    batch = tf.constant(np.transpose(s["x"], (1, 0, 2)))   # [B, T, D], as in the article
    ht = tf.constant(s["h"][0])
    ct = tf.constant(s["c"][0])
    hs, cs, os_, grads, seed_prints = [], [], [], [], []
    for t in range(s["steps"]):
        bt = batch[:, t, :][:, None]
        with tf.GradientTape() as tape:
            tape.watch(bt)
            tape.watch(ht)
            tape.watch(ct)
            model = build_model()
            set_saved_weights(model, s)
            otp1, htp1, ctp1 = model([bt, ht, ct])

        grad = tape.batch_jacobian(htp1, ht, )

        ht, ct = htp1, ctp1

        g = grad.numpy()
        seed_prints.append(np.var(grad) * units)   # the article's own print
        print("step t=%d  article's np.var(grad)*units = %s" % (t + 1, seed_prints[-1]))
        grads.append(g)
        hs.append(htp1.numpy())
        cs.append(ctp1.numpy())
        os_.append(otp1.numpy()[:, 0, :])
    return {"h": np.stack(hs), "c": np.stack(cs), "o": np.stack(os_),
            "J": grads, "seed_var": seed_prints}


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------
class Table:
    def __init__(self):
        self.rows = []

    def add(self, check, what, ref, ours, diff, tol, ok, note=""):
        self.rows.append((check, what, ref, ours, diff, tol, ok, note))

    def failures(self):
        return [r for r in self.rows if not r[6]]

    def render(self):
        def num(v):
            if v is None:
                return "-"
            if isinstance(v, str):
                return v
            return "%.6g" % v
        head = ("check", "what", "referee", "ours", "|diff|", "tolerance", "result")
        body = [(r[0], r[1], num(r[2]), num(r[3]), num(r[4]), num(r[5]),
                 ("ok" if r[6] else "MISMATCH") + (" (%s)" % r[7] if r[7] else ""))
                for r in self.rows]
        w = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
        line = lambda x: "  ".join(str(v).ljust(w[i]) for i, v in enumerate(x)).rstrip()
        out = [line(head), line(tuple("-" * n for n in w))]
        out += [line(b) for b in body]
        return "\n".join(out)


def compare(np, s, ref, report_var):
    tab = Table()
    U, B, T = s["units"], s["batch"], s["steps"]

    # (a) Jacobians, per saved step.
    saved_k = {t: k for k, t in enumerate(s["J_steps"])}
    for t in range(1, T + 1):
        Jr = ref["J"][t - 1]
        if t not in saved_k:
            tab.add("(a) jacobian", "dh@%d/dh@%d" % (t, t - 1), float(np.max(np.abs(Jr))),
                    "not saved", None, None, True, "step not in the save; not compared")
            continue
        Jo = s["J"][saved_k[t]]
        scale = float(np.max(np.abs(Jr)))
        tol = max(REL_TOL * scale, 1e-12)
        diff = float(np.max(np.abs(Jr.astype(np.float64) - Jo.astype(np.float64))))
        tab.add("(a) jacobian", "dh@%d/dh@%d  max|J|" % (t, t - 1), scale,
                float(np.max(np.abs(Jo))), diff, tol, diff <= tol)

    # (b) Trajectory, h@1..h@T, c@1..c@T, o@1..o@T.
    for name, ours in (("h", s["h"][1:]), ("c", s["c"][1:]), ("o", s["o"])):
        r = ref[name]
        scale = float(np.max(np.abs(r)))
        tol = max(REL_TOL * scale, 1e-12)
        d = np.abs(r.astype(np.float64) - ours.astype(np.float64))
        diff = float(np.max(d))
        worst_t = int(np.unravel_index(np.argmax(d), d.shape)[0]) + 1
        tab.add("(b) trajectory", "%s@1..%d  max|%s|" % (name, T, name), scale,
                float(np.max(np.abs(ours))), diff, tol, diff <= tol,
                "" if diff <= tol else "worst at step %d" % worst_t)

    # (c) var * units, the article's print, against the report.
    for t in range(1, T + 1):
        Jr = ref["J"][t - 1]
        seed_pooled = float(ref["seed_var"][t - 1])
        ours_v = report_var.get(t)
        if ours_v is None:
            tab.add("(c) var*units", "step %d" % t, seed_pooled, "missing", None,
                    VAR_ABS_TOL, False, "the report has no step t=%d" % t)
            continue
        if B == 1:
            diff = abs(seed_pooled - ours_v[0])
            tab.add("(c) var*units", "step %d (article's print)" % t, seed_pooled,
                    ours_v[0], diff, VAR_ABS_TOL, diff <= VAR_ABS_TOL)
            continue
        if t in saved_k:
            ours_pooled = float(np.var(s["J"][saved_k[t]]) * U)
            diff = abs(seed_pooled - ours_pooled)
            tab.add("(c) var*units", "step %d pooled (article's print vs saved J)" % t,
                    seed_pooled, ours_pooled, diff, VAR_ABS_TOL, diff <= VAR_ABS_TOL)
        else:
            tab.add("(c) var*units", "step %d pooled" % t, seed_pooled, "not saved", None,
                    None, True, "step not in the save; pooled value not compared")
        for b in range(B):
            rv = float(np.var(Jr[b]) * U)
            diff = abs(rv - ours_v[b])
            tab.add("(c) var*units", "step %d element %d" % (t, b), rv, ours_v[b], diff,
                    VAR_ABS_TOL, diff <= VAR_ABS_TOL)
    return tab


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Check an rnn-jacobian --save DIR and --json report against the "
                    "seed article's own TensorFlow program.")
    ap.add_argument("--save", required=True, help="directory written by the CLI's --save")
    ap.add_argument("--report", required=True, help="JSON report written by the CLI's --json")
    ap.add_argument("--activation", choices=ACTIVATIONS, default=None,
                    help="recurrent activation (must match manifest.json; default: "
                         "take it from manifest.json)")
    a = ap.parse_args(argv)

    import numpy as np
    try:
        s = read_save(np, a.save, a.activation)
        report_var, expected = read_report(a.report, s["steps"], s["batch"])
    except BadInput as e:
        print("seed_referee: BAD INPUT: %s" % e, file=sys.stderr)
        return 2

    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")   # batch_jacobian's pfor retracing notices
    if tuple(int(v) for v in tf.__version__.split(".")[:2]) >= (2, 16):
        try:
            import tf_keras
        except ImportError:
            print("seed_referee: tf-keras is not installed; run in the venv of "
                  "scripts/setup-python.sh", file=sys.stderr)
            return 3
        if tf.keras.layers.Layer is not tf_keras.layers.Layer:
            print("seed_referee: tf.keras is not Keras 2 (TF_USE_LEGACY_KERAS=1 ignored?)",
                  file=sys.stderr)
            return 3

    print("seed_referee: tensorflow %s, save %s: cell=seed activation=%s units=%d "
          "inputDim=%d timeSteps=%d batchSize=%d, jacobian steps %s"
          % (tf.__version__, a.save, s["activation"], s["units"], s["input_dim"],
             s["steps"], s["batch"], s["J_steps"]))
    if expected is not None:
        print("seed_referee: the report's expected value: %s" % json.dumps(expected))
    ref = run_seed_loop(tf, np, s)
    tab = compare(np, s, ref, report_var)
    print()
    print(tab.render())
    bad = tab.failures()
    print()
    if bad:
        print("seed_referee: FAIL: %d of %d checks differ" % (len(bad), len(tab.rows)))
        return 1
    print("seed_referee: PASS: %d checks" % len(tab.rows))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception:  # a bug or an environment problem of the referee itself
        traceback.print_exc()
        print("seed_referee: INTERNAL ERROR (exit 3)", file=sys.stderr)
        sys.exit(3)
