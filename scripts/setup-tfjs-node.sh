#!/usr/bin/env bash
# Makes @tensorflow/tfjs-node (the native TensorFlow backend of TF.js) install
# and run on machines that cannot reach the host its own install script
# downloads libtensorflow 2.9.1 from.
#
# What it does, in the repo this script lives in (<repo>/scripts/..):
#  1. makes sure node_modules/@tensorflow/tfjs-node@4.22.0 is there; when it is
#     missing it runs `npm install --no-save --ignore-scripts` for that one
#     package (package.json and package-lock.json are left as they are);
#  2. runs scripts/setup-python.sh (idempotent) and takes the TensorFlow C
#     library and C headers from that venv's tensorflow-cpu wheel:
#     libtensorflow_cc.so.2 (which exports the whole TF_* / TFE_* C API) and
#     libtensorflow_framework.so.2, plus the headers that
#     tensorflow/c/c_api.h and tensorflow/c/eager/c_api.h include;
#  3. stages them into node_modules/@tensorflow/tfjs-node/deps/{lib,include}
#     (hard links when the venv is on the same file system, else copies) with
#     the names binding.gyp links against (-ltensorflow -ltensorflow_framework)
#     and the name tfjs-node's scripts/install.js looks for
#     (libtensorflow.so.2.9.1), so a later `npm rebuild` does not try to
#     download either;
#  4. builds the binding with node-gyp --nodedir=<node's prefix> into the
#     path @mapbox/node-pre-gyp looks in (lib/napi-v<N>/tfjs_binding.node);
#  5. loads the backend in node and checks numbers (matMul, tf.grad,
#     relu/sigmoid/tanh/elu/selu/softplus/softsign).
# Steps 3-4 are skipped when a stamp from an earlier run matches (same
# tfjs-node, TensorFlow, node); step 5 always runs. Set
# RNN_JACOBIAN_FORCE_TFJS_NODE=1 to redo everything.
#
# Environment:
#   RNN_JACOBIAN_CACHE   cache root (venv in $RNN_JACOBIAN_CACHE/venv)
#   RNN_JACOBIAN_TF_DIR  use this directory instead of the venv's tensorflow
#                         package (it must hold libtensorflow_cc.so.2,
#                         libtensorflow_framework.so.2 and include/)
#   NODE_GYP              path to node-gyp's bin/node-gyp.js (default: the
#                         one bundled with npm, else node-gyp on PATH)
set -euo pipefail

log() { printf '[setup-tfjs-node] %s\n' "$*" >&2; }
die() { printf '[setup-tfjs-node] ERROR: %s\n' "$*" >&2; exit 1; }

TFJS_NODE_VERSION="4.22.0"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}"
VENV="$CACHE/venv"
PKG="$REPO_ROOT/node_modules/@tensorflow/tfjs-node"
start=$(date +%s)

command -v node >/dev/null 2>&1 || die "node is not on PATH"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH"
[[ -f "$REPO_ROOT/package.json" ]] || die "no package.json in $REPO_ROOT"
log "repo: $REPO_ROOT"

# The version package.json asks for must be the one this script was made for.
declared="$(cd "$REPO_ROOT" && node -e '
  const p = require("./package.json");
  const v = (p.optionalDependencies || {})["@tensorflow/tfjs-node"]
         || (p.dependencies || {})["@tensorflow/tfjs-node"] || "";
  process.stdout.write(v);')"
if [[ -n "$declared" && "$declared" != "$TFJS_NODE_VERSION" ]]; then
  die "package.json asks for @tensorflow/tfjs-node '$declared'; this script stages the C library for $TFJS_NODE_VERSION only (update TFJS_NODE_VERSION here after checking the binding builds)"
fi

installed_version() {
  [[ -f "$PKG/package.json" ]] || { echo ""; return; }
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$PKG/package.json"
}

# ---- 1. the npm package ------------------------------------------------------
[[ -d "$REPO_ROOT/node_modules/@tensorflow/tfjs-core" ]] \
  || die "$REPO_ROOT/node_modules has no @tensorflow/tfjs-core: install the project's dependencies first (npm ci)"
have="$(installed_version)"
if [[ "$have" != "$TFJS_NODE_VERSION" ]]; then
  log "node_modules/@tensorflow/tfjs-node is ${have:-missing}; adding @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
  log "  npm install --no-save --ignore-scripts @tensorflow/tfjs-node@$TFJS_NODE_VERSION  (its own install script, which downloads libtensorflow, is not run)"
  (cd "$REPO_ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund \
      "@tensorflow/tfjs-node@$TFJS_NODE_VERSION") \
    || die "npm install of @tensorflow/tfjs-node@$TFJS_NODE_VERSION failed (see above)"
  have="$(installed_version)"
  [[ "$have" == "$TFJS_NODE_VERSION" ]] \
    || die "after npm install, node_modules/@tensorflow/tfjs-node is '${have:-missing}', not $TFJS_NODE_VERSION"
else
  log "node_modules/@tensorflow/tfjs-node@$have is present"
fi
for dep in @mapbox/node-pre-gyp @tensorflow/tfjs; do
  node -e 'require.resolve(process.argv[1] + "/package.json", {paths: [process.argv[2]]})' "$dep" "$PKG" \
    2>/dev/null || die "tfjs-node's dependency $dep does not resolve from $PKG (run npm ci, then this script again)"
done

# ---- 2. the TensorFlow C library and headers ------------------------------
if [[ -n "${RNN_JACOBIAN_TF_DIR:-}" ]]; then
  TF_DIR="$RNN_JACOBIAN_TF_DIR"
  TF_VERSION="custom:$TF_DIR"
  log "TensorFlow C library from RNN_JACOBIAN_TF_DIR=$TF_DIR"
else
  if [[ "${RNN_JACOBIAN_VENV_READY:-}" != 1 ]]; then
    log "making sure the Python venv (the TensorFlow wheel) is there: scripts/setup-python.sh"
    bash "$SCRIPT_DIR/setup-python.sh" || die "scripts/setup-python.sh failed"
  fi
  TF_DIR="$("$VENV/bin/python" -c 'import importlib.util, os; s = importlib.util.find_spec("tensorflow"); print(os.path.dirname(s.origin))')" \
    || die "cannot find the tensorflow package in $VENV"
  TF_VERSION="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("tensorflow-cpu"))')" \
    || die "cannot read the tensorflow-cpu version in $VENV"
  log "TensorFlow C library from the tensorflow-cpu $TF_VERSION wheel: $TF_DIR"
fi
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2 \
         include/tensorflow/c/c_api.h include/tensorflow/c/eager/c_api.h; do
  [[ -e "$TF_DIR/$f" ]] || die "missing $TF_DIR/$f"
done

# The binding goes where @mapbox/node-pre-gyp looks for it (lib/napi-v<N>).
BINDING="$(cd "$REPO_ROOT" && node -e '
  const b = require(require.resolve("@mapbox/node-pre-gyp", {paths: [process.argv[1]]}));
  process.stdout.write(b.find(require("path").join(process.argv[1], "package.json")));' "$PKG")" \
  || die "node-pre-gyp could not tell where tfjs_binding.node goes"
NAPI="$(basename "$(dirname "$BINDING")")"; NAPI="${NAPI#napi-v}"
[[ "$NAPI" =~ ^[0-9]+$ ]] || die "unexpected binding path $BINDING"

NODEDIR="$(node -p 'require("path").dirname(require("path").dirname(process.execPath))')"
[[ -f "$NODEDIR/include/node/node_api.h" ]] \
  || die "no Node.js headers at $NODEDIR/include/node (node-gyp would try to download them, which fails here)"

STAMP="$PKG/deps/.rnn-jacobian-lab-stamp"
WANT_STAMP="tfjs-node=$TFJS_NODE_VERSION tensorflow=$TF_VERSION tf_dir=$TF_DIR node=$(node -v) napi=$NAPI nodedir=$NODEDIR"

stage_and_build() {
  log "staging libtensorflow into $PKG/deps"
  rm -rf "$PKG/deps" "$PKG/build" "$(dirname "$BINDING")"
  mkdir -p "$PKG/deps/lib" "$PKG/deps/include"
  local lib
  for lib in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
    if ln -f "$TF_DIR/$lib" "$PKG/deps/lib/$lib" 2>/dev/null; then
      log "  deps/lib/$lib  (hard link to $TF_DIR/$lib)"
    else
      cp -f "$TF_DIR/$lib" "$PKG/deps/lib/$lib" || die "cannot copy $TF_DIR/$lib"
      log "  deps/lib/$lib  (copy of $TF_DIR/$lib)"
    fi
  done
  # Names binding.gyp links with, and the names install.js checks for.
  ln -s libtensorflow_cc.so.2 "$PKG/deps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so"
  ln -s libtensorflow_cc.so.2 "$PKG/deps/lib/libtensorflow.so.2.9.1"
  ln -s libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so.2.9.1"
  log "  deps/lib/libtensorflow.so, libtensorflow.so.2.9.1 -> libtensorflow_cc.so.2; libtensorflow_framework.so{,.2.9.1} -> libtensorflow_framework.so.2"

  # Exactly the headers that the binding's own TensorFlow #includes (the two C
  # API headers and ctstring_internal.h) pull in, found by the compiler.
  local cxx="${CXX:-c++}" headers h n=0 probe
  command -v "$cxx" >/dev/null 2>&1 || die "no C++ compiler ($cxx) for node-gyp"
  probe="$( { printf '#include "tensorflow/c/c_api.h"\n#include "tensorflow/c/eager/c_api.h"\n'
              cat "$PKG"/binding/*.cc "$PKG"/binding/*.h; } \
            | grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"tensorflow/' | sort -u )"
  log "  TensorFlow headers the binding includes: $(printf '%s' "$probe" | sed -E 's/.*"(.*)".*/\1/' | tr '\n' ' ')"
  headers="$(printf '%s\n' "$probe" \
      | "$cxx" -x c++ -std=c++17 -M -MT deps -I"$TF_DIR/include" - )" \
    || die "the TensorFlow C headers in $TF_DIR/include do not preprocess (see above)"
  headers="${headers//\\/ }"   # drop make's line continuations
  for h in $headers; do
    case "$h" in
      "$TF_DIR/include/"*) ;;
      *) continue ;;
    esac
    mkdir -p "$PKG/deps/include/$(dirname "${h#"$TF_DIR/include/"}")"
    cp -f "$h" "$PKG/deps/include/${h#"$TF_DIR/include/"}"
    n=$((n + 1))
  done
  [[ -f "$PKG/deps/include/tensorflow/c/eager/c_api.h" ]] || die "staging the headers failed"
  log "  deps/include: $n headers (tensorflow/c/c_api.h, tensorflow/c/eager/c_api.h and what they include)"

  # node-gyp: the one bundled with npm, else one on PATH.
  local gyp="${NODE_GYP:-}"
  if [[ -z "$gyp" ]]; then
    gyp="$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js"
    [[ -f "$gyp" ]] || gyp="$(command -v node-gyp || true)"
  fi
  [[ -n "$gyp" && -e "$gyp" ]] || die "node-gyp not found (set NODE_GYP=/path/to/node-gyp.js or npm install -g node-gyp)"
  log "building the binding: node $gyp rebuild --nodedir=$NODEDIR (napi $NAPI) -> $BINDING"
  local gyplog="$PKG/build-rnn-jacobian-lab.log"
  if ! (cd "$PKG" && node "$gyp" rebuild --nodedir="$NODEDIR" --jobs=2 \
          --module_name=tfjs_binding --module_path="$(dirname "$BINDING")" \
          --napi_build_version="$NAPI") >"$gyplog" 2>&1; then
    tail -40 "$gyplog" >&2
    die "node-gyp failed building tfjs_binding.node (full log: $gyplog)"
  fi
  [[ -f "$BINDING" ]] || die "node-gyp succeeded but $BINDING is missing (log: $gyplog)"
  if ldd "$BINDING" | grep -q 'not found'; then
    ldd "$BINDING" >&2
    die "$BINDING has unresolved libraries"
  fi
  printf '%s\n' "$WANT_STAMP" > "$STAMP"
  log "built $BINDING"
}

if [[ "${RNN_JACOBIAN_FORCE_TFJS_NODE:-0}" != "1" && -f "$STAMP" && -f "$BINDING" \
      && -f "$PKG/deps/lib/libtensorflow_cc.so.2" && -f "$PKG/deps/lib/libtensorflow_framework.so.2" \
      && "$(cat "$STAMP")" == "$WANT_STAMP" ]]; then
  log "binding already built for this TensorFlow and node ($BINDING); not rebuilding"
else
  stage_and_build
fi

# ---- 5. load the backend and check numbers --------------------------------
log "checking: require('@tensorflow/tfjs-node') from $REPO_ROOT"
(cd "$REPO_ROOT" && TF_CPP_MIN_LOG_LEVEL=2 node - <<'JS'
const tf = require('@tensorflow/tfjs-node');
const fail = (m) => { console.error('[setup-tfjs-node] CHECK FAILED: ' + m); process.exit(1); };
const close = (name, got, want, tol = 1e-6) => {
  got = Array.from(got);
  if (got.length !== want.length ||
      got.some((g, i) => !(Math.abs(g - want[i]) <= tol * Math.max(1, Math.abs(want[i])))))
    fail(`${name}: got [${got}] want [${want}]`);
};
if (tf.getBackend() !== 'tensorflow') fail(`backend is ${tf.getBackend()}, not tensorflow`);
close('matMul', tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync(),
      [19, 22, 43, 50], 0);
// d/dx sum(relu(W x)^2) through matMul, relu, square, sum.
const W = tf.tensor2d([[1, -2], [0.5, 1]]);
const g = tf.grad((x) => tf.matMul(W, x.reshape([2, 1])).relu().square().sum());
// x=(1,1): W x = (-1, 1.5) -> relu (0, 1.5) -> grad = W^T (0, 3) = (1.5, 3)
close('grad', g(tf.tensor1d([1, 1])).dataSync(), [1.5, 3]);
const xs = [-2, -0.5, 0, 0.5, 2], x = tf.tensor1d(xs);
const A = 1.6732632423543772, L = 1.0507009873554805;
const ref = {
  relu: (v) => Math.max(v, 0),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
  selu: (v) => L * (v > 0 ? v : A * Math.expm1(v)),
  softplus: (v) => Math.log1p(Math.exp(v)),
};
for (const [op, f] of Object.entries(ref)) close(op, tf[op](x).dataSync(), xs.map(f));
close('softsign', tf.layers.activation({activation: 'softsign'}).apply(x).dataSync(),
      xs.map((v) => v / (1 + Math.abs(v))));
console.error(`[setup-tfjs-node] check passed: backend=${tf.getBackend()}, ` +
              `tfjs-node ${tf.version['tfjs-node']}, libtensorflow ${tf.backend().binding.TF_Version}`);
JS
) || die "the tfjs-node check failed (see above)"
log "OK in $(( $(date +%s) - start )) s: @tensorflow/tfjs-node@$TFJS_NODE_VERSION runs on TensorFlow $TF_VERSION ($BINDING)"
