#!/usr/bin/env bash
# Runs the real tauri-plugin-updater (headless MockRuntime) against the updater binary.
#
#   tests/clients/tauri/run.sh [extra cargo test args, e.g. -- --nocapture]
#
# UPDATER_BIN: the updater binary to test. When unset, the main crate is built with
# `cargo build` and ${CARGO_TARGET_DIR:-<repo>/target}/debug/updater is used.
# Installs the Debian build dependencies of tauri (gtk3/webkit2gtk 4.1) when they are missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"

# libwebkit2gtk-4.1-dev pulls libgtk-3-dev, libsoup-3.0-dev and libjavascriptcoregtk-4.1-dev.
PKGS=(pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "run.sh: installing ${missing[*]}" >&2
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -z "${UPDATER_BIN:-}" ]; then
  echo "run.sh: UPDATER_BIN unset, building the updater in $REPO" >&2
  (cd "$REPO" && cargo build --locked --bin updater)
  UPDATER_BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/updater"
fi
UPDATER_BIN="$(realpath "$UPDATER_BIN")"
export UPDATER_BIN
echo "run.sh: UPDATER_BIN=$UPDATER_BIN" >&2

cd "$HERE"
# Own target dir: never shares (or invalidates) the main crate's build.
export CARGO_TARGET_DIR="$HERE/target"
exec cargo test --locked "$@"
