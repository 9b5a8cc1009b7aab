#!/usr/bin/env bash
# Installs a real VS Code (code-server 4.100.3 = VS Code 1.100.3 on Node 20) from
# the npm registry and Debian's packages, for the end-to-end tests in test/e2e/.
#
#   bash scripts/setup-code-server.sh        # prints the launcher's path last
#
# Where: ${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}/code-server-4.100.3
# Idempotent: each step leaves a stamp in .steps/, and the whole install is
# marked good by .install-complete, written only at the very end. A run that
# finds that marker (and a working launcher) does nothing but print the path.
# Set RNN_JACOBIAN_SETUP_FORCE=1 to wipe and reinstall.
#
# Needs: Node 20 with npm, make, g++, python3 (all on the machine image); as
# root it installs the missing Debian packages itself.
set -euo pipefail

CS_VERSION=4.100.3
CACHE_ROOT="${RNN_JACOBIAN_CACHE:-$HOME/.cache/rnn-jacobian-lab}"
DIR="$CACHE_ROOT/code-server-$CS_VERSION"
MARKER="$DIR/.install-complete"
STEPS="$DIR/.steps"
LAUNCHER="$DIR/bin/code-server"
APT_PACKAGES=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep chromium fonts-dejavu-core make g++)
NATIVE_MODULES=(kerberos node-pty @vscode/spdlog native-watchdog @parcel/watcher @vscode/deviceid)

log() { printf '[setup-code-server] %s\n' "$*" >&2; }
die() {
  printf '\n[setup-code-server] ************************************************************\n' >&2
  printf '[setup-code-server] ERROR: %s\n' "$*" >&2
  printf '[setup-code-server] ************************************************************\n\n' >&2
  exit 1
}
CURRENT_STEP="(start)"
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '\n[setup-code-server] !!!!! FAILED in step: %s (exit %s). Nothing was marked complete; re-run to resume. !!!!!\n\n' "$CURRENT_STEP" "$rc" >&2
  fi
}
trap on_exit EXIT

# step NAME CMD...: runs CMD once (skipped if NAME's stamp exists), timed.
step() {
  local name="$1"; shift
  CURRENT_STEP="$name"
  if [ -f "$STEPS/$name" ]; then
    log "skip  $name (done before)"
    return 0
  fi
  log "start $name"
  local t0=$SECONDS
  "$@"
  mkdir -p "$STEPS"
  touch "$STEPS/$name"
  log "done  $name in $((SECONDS - t0))s"
}

# ---- fast path -------------------------------------------------------------
if [ "${RNN_JACOBIAN_SETUP_FORCE:-0}" = "1" ]; then
  log "RNN_JACOBIAN_SETUP_FORCE=1: removing $DIR"
  rm -rf "$DIR"
fi
# The cache may outlive the Debian packages (or the reverse): check the two we run.
if [ -f "$MARKER" ] && [ -x "$LAUNCHER" ] && [ -x /usr/bin/chromium ] && command -v rg >/dev/null; then
  log "already installed ($MARKER)"
  echo "$LAUNCHER"
  exit 0
fi

# ---- prerequisites -----------------------------------------------------------
command -v node >/dev/null || die "node is not on PATH (Node 20 is needed)"
command -v npm >/dev/null || die "npm is not on PATH"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" = "20" ] || die "code-server $CS_VERSION needs Node 20; found $(node -v)"
NODEDIR="$(dirname "$(dirname "$(command -v node)")")"
[ -f "$NODEDIR/include/node/node.h" ] || die "no Node headers at $NODEDIR/include/node/node.h (native builds need them; no download is possible here)"

mkdir -p "$DIR"
# One installer at a time (two test runs starting together).
exec 9>"$CACHE_ROOT/.setup-code-server.lock"
flock 9
if [ -f "$MARKER" ] && [ -x "$LAUNCHER" ]; then
  log "installed by a concurrent run ($MARKER)"
  echo "$LAUNCHER"
  exit 0
fi

T_ALL=$SECONDS
log "installing code-server $CS_VERSION into $DIR"

install_apt() {
  local missing=()
  local p
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Debian packages already present"
    return 0
  fi
  log "missing Debian packages: ${missing[*]}"
  local SUDO=""
  if [ "$(id -u)" != "0" ]; then
    command -v sudo >/dev/null || die "not root and no sudo: install these Debian packages first: ${missing[*]}"
    SUDO="sudo"
  fi
  local apt_log="$DIR/.apt.log"
  log "apt-get update && apt-get install (output in $apt_log)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$apt_log" 2>&1 \
    || { tail -n 30 "$apt_log" >&2; die "apt-get update failed (log: $apt_log)"; }
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 \
    || { tail -n 30 "$apt_log" >&2; die "apt-get install failed for: ${missing[*]} (log: $apt_log)"; }
}
# Not stamped: cheap to re-check, and a machine may lose them while the cache stays.
CURRENT_STEP="apt"
T=$SECONDS; install_apt; log "apt step took $((SECONDS - T))s"
command -v rg >/dev/null || die "ripgrep (rg) is missing after the apt step"
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after the apt step"

# node-gyp bundled with npm (npm 11 runs no install scripts by default, so we build by hand).
NODE_GYP="$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$NODE_GYP" ]; then
  NODE_GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
fi
[ -f "$NODE_GYP" ] || die "cannot find npm's bundled node-gyp (looked next to npm and in $(npm root -g))"
export npm_config_nodedir="$NODEDIR"
JOBS="$(nproc 2>/dev/null || echo 2)"

NPM_FLAGS=(--ignore-scripts --no-audit --no-fund --loglevel=error)

do_npm_code_server() {
  [ -f "$DIR/package.json" ] || echo '{ "name": "rnn-jacobian-lab-code-server", "private": true }' > "$DIR/package.json"
  (cd "$DIR" && npm install "${NPM_FLAGS[@]}" "code-server@$CS_VERSION" >&2) || die "npm install code-server@$CS_VERSION failed"
  [ -f "$DIR/node_modules/code-server/out/node/entry.js" ] || die "code-server's entry.js is missing after npm install"
}
step 01-npm-code-server do_npm_code_server

CS="$DIR/node_modules/code-server"
VS="$CS/lib/vscode"

do_vscode_deps() {
  (cd "$VS" && npm install --omit=dev "${NPM_FLAGS[@]}" >&2) || die "npm install in $VS failed"
}
step 02-vscode-deps do_vscode_deps

gyp_rebuild() {
  local mod="$1"
  [ -d "$VS/node_modules/$mod" ] || die "native module $mod not found in $VS/node_modules"
  log "  node-gyp rebuild $mod"
  (cd "$VS/node_modules/$mod" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" -j "$JOBS" >"$DIR/.build-$(echo "$mod" | tr / _).log" 2>&1) \
    || { tail -n 40 "$DIR/.build-$(echo "$mod" | tr / _).log" >&2; die "node-gyp rebuild of $mod failed (full log: $DIR/.build-$(echo "$mod" | tr / _).log)"; }
}
do_native() {
  local m
  for m in "${NATIVE_MODULES[@]}"; do gyp_rebuild "$m"; done
}
step 03-native-modules do_native

do_ripgrep() {
  mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
  cp -f "$(command -v rg)" "$VS/node_modules/@vscode/ripgrep/bin/rg"
  chmod +x "$VS/node_modules/@vscode/ripgrep/bin/rg"
  # What code-server's own postinstall.sh (skipped by --ignore-scripts) would do:
  # VS Code and extensions look for files (rg, wasm) under node_modules.asar;
  # the terminal's `code-server` CLI and the browser helper are linked per OS.
  ln -sfn node_modules "$VS/node_modules.asar"
  ln -sfn code-linux.sh "$VS/bin/remote-cli/code-server"
  ln -sfn browser-linux.sh "$VS/bin/helpers/browser.sh"
}
step 04-ripgrep-asar do_ripgrep

do_builtin_ext_deps() {
  (cd "$VS/extensions" && npm install --omit=dev "${NPM_FLAGS[@]}" >&2) || die "npm install in $VS/extensions failed"
}
step 05-builtin-extension-deps do_builtin_ext_deps

do_argon2() {
  local a
  a="$(cd "$CS" && node -p 'require("path").dirname(require.resolve("argon2/package.json"))')" || die "argon2 not found next to code-server"
  local pregyp
  pregyp="$(cd "$a" && { node -p 'require.resolve("@mapbox/node-pre-gyp/bin/node-pre-gyp")' 2>/dev/null || true; })"
  [ -n "$pregyp" ] || die "@mapbox/node-pre-gyp not found for argon2 at $a"
  (cd "$a" && PATH="$(dirname "$NODE_GYP"):$PATH" node "$pregyp" install --build-from-source --nodedir="$NODEDIR" >"$DIR/.build-argon2.log" 2>&1) \
    || { tail -n 40 "$DIR/.build-argon2.log" >&2; die "argon2 build failed (full log: $DIR/.build-argon2.log)"; }
}
step 06-argon2 do_argon2

do_launcher() {
  mkdir -p "$DIR/bin"
  printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$DIR/config.yaml"
  cat >"$LAUNCHER" <<EOF
#!/usr/bin/env bash
# Generated by scripts/setup-code-server.sh
# A private config file, so that code-server never writes ~/.config/code-server
# (flags such as --auth and --bind-addr override it anyway).
export CODE_SERVER_CONFIG="\${CODE_SERVER_CONFIG:-$DIR/config.yaml}"
exec node "$CS/out/node/entry.js" "\$@"
EOF
  chmod +x "$LAUNCHER"
}
step 07-launcher do_launcher

do_verify() {
  local v
  v="$("$LAUNCHER" --version 2>&1)" || { echo "$v" >&2; die "the launcher failed to run: $LAUNCHER --version"; }
  echo "$v" | grep -q "^$CS_VERSION" || die "unexpected version from $LAUNCHER: $v"
  log "code-server --version: $(echo "$v" | grep "^$CS_VERSION" | head -n1)"
  # Each native module must load in this Node.
  (cd "$VS" && node -e '
    for (const m of ["kerberos","node-pty","@vscode/spdlog","native-watchdog","@parcel/watcher","@vscode/deviceid"]) {
      try { require(m); } catch (e) { console.error("cannot load " + m + ": " + e.message); process.exit(1); }
    }') || die "a native module does not load (see above)"
  (cd "$CS" && node -e 'require("argon2")') || die "argon2 does not load"
}
step 08-verify do_verify

CURRENT_STEP="marker"
date -u +%FT%TZ >"$MARKER"
log "installed in $((SECONDS - T_ALL))s"
echo "$LAUNCHER"
