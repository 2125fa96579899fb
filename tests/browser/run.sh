#!/usr/bin/env bash
# The browser suites: the real binary driven by Debian's headless Chromium
# through Selenium (pytest + selenium from PyPI, pinned in requirements.txt,
# installed into a venv under the target directory).
#
#   tests/browser/run.sh [pytest arguments]
#
# UPDATER_BIN   the binary to test; default: `cargo build --locked` and
#               ${CARGO_TARGET_DIR:-<repo>/target}/debug/updater
# Screenshots of every test and the server's log land in
# ${CARGO_TARGET_DIR:-<repo>/target}/browser-screenshots and .../browser.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
VENV="$TARGET/browser-venv"

log() { printf '[browser] %s\n' "$*" >&2; }

for tool in /usr/bin/chromium /usr/bin/chromedriver; do
    [ -x "$tool" ] || { log "$tool is missing: apt-get install chromium chromium-driver"; exit 1; }
done

# Reinstalled whenever the pins change.
if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
    log "installing $(tr '\n' ' ' <"$HERE/requirements.txt")into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

if [ -z "${UPDATER_BIN:-}" ]; then
    log "UPDATER_BIN unset, building the updater"
    (cd "$REPO" && cargo build --locked --bin updater)
    UPDATER_BIN="$TARGET/debug/updater"
fi
UPDATER_BIN="$(realpath "$UPDATER_BIN")"
export UPDATER_BIN CARGO_TARGET_DIR="$TARGET"

cd "$REPO"
exec "$VENV/bin/pytest" -q -p no:cacheprovider tests/browser "$@"
