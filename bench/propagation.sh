#!/usr/bin/env bash
# Cross-replica propagation benchmark: how long a write made through one
# updater replica takes to show up in another replica's answers, with several
# replicas sharing one PostgreSQL database (LISTEN/NOTIFY). Target: < 1 s.
# Usage: bench/propagation.sh   (tunables: see the BENCH_* below)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

WRITES="${BENCH_PROPAGATION_WRITES:-200}"      # timed release registrations
YANKS="${BENCH_PROPAGATION_YANKS:-10}"         # timed yanks (after the registrations)
REPLICAS="${BENCH_PROPAGATION_REPLICAS:-3}"    # updater processes sharing the database
TIMEOUT="${BENCH_PROPAGATION_TIMEOUT:-30}"     # seconds after which a change counts as lost
TARGET_MS="${BENCH_PROPAGATION_TARGET_MS:-1000}"
PORT="${BENCH_PORT:-18080}"                    # replica i listens on PORT + i
PG_PORT="${BENCH_PG_PORT:-18089}"
SKIP_BUILD="${BENCH_SKIP_BUILD:-0}"

KEY="bench-admin-key-0123456789abcdef0123456789"
DB="updater_bench"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/updater"

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

START_TS=$(date +%s)

# --- prerequisites --------------------------------------------------------
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | while read -r d; do [ -x "$d/initdb" ] && echo "$d"; done | sort -V | tail -n1; }
need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -n "$(pg_bin)" ] || need+=(postgresql)
if [ "${#need[@]}" -gt 0 ]; then
    log "installing: ${need[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required"
PG_BIN="$(pg_bin)"
[ -n "$PG_BIN" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql after install"

if [ "$SKIP_BUILD" != "1" ]; then
    log "building release binary (cargo build --release)"
    (cd "$ROOT" && cargo build --release)
fi
[ -x "$BIN" ] || die "no binary at $BIN"

# --- workspace and cleanup -------------------------------------------------
WORK="$(mktemp -d -t updater-propagation.XXXXXX)"
PGDIR="$WORK/pg"
PG_STARTED=0
UPDATER_PIDS=()
AS_POSTGRES=0; [ "$(id -u)" -eq 0 ] && AS_POSTGRES=1

pg() { # tool args...: a PostgreSQL client/server tool, as `postgres` when we are root
    local tool="$PG_BIN/$1"; shift
    if [ "$AS_POSTGRES" = 1 ]; then
        runuser -u postgres -- env PGPASSWORD="$PG_PASSWORD" "$tool" "$@"
    else
        PGPASSWORD="$PG_PASSWORD" "$tool" "$@"
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid
    for pid in "${UPDATER_PIDS[@]}"; do stop_pid "$pid"; done
    if [ "$PG_STARTED" = 1 ]; then
        pg pg_ctl stop -D "$PGDIR/data" -m fast -w -t 30 >/dev/null 2>&1 || log "pg_ctl stop failed"
    fi
    if [ "$rc" -ne 0 ] && [ -d "$WORK" ]; then
        log "failed (rc=$rc); logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
port_free "$PG_PORT" || die "port $PG_PORT is already in use (set BENCH_PG_PORT)"
for i in $(seq 0 $((REPLICAS - 1))); do
    port_free $((PORT + i)) || die "port $((PORT + i)) is already in use (set BENCH_PORT)"
done

# --- PostgreSQL -------------------------------------------------------------
PG_PASSWORD="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$PGDIR"
printf '%s' "$PG_PASSWORD" >"$PGDIR/pwfile"
if [ "$AS_POSTGRES" = 1 ]; then
    chown -R postgres:postgres "$PGDIR"
    chmod a+x "$WORK"   # let `postgres` reach $PGDIR inside the private mktemp directory
fi
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') from $PG_BIN on 127.0.0.1:$PG_PORT"
pg initdb -D "$PGDIR/data" -U updater --auth=scram-sha-256 --pwfile "$PGDIR/pwfile" -E UTF8 --no-sync \
    >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
# Durability as in production (fsync on): the commit that carries the NOTIFY is
# part of what a replica waits for.
PG_STARTED=1
pg pg_ctl start -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PGDIR" >/dev/null \
    || { cat "$PGDIR/server.log" >&2; die "pg_ctl start failed"; }
pg createdb -h 127.0.0.1 -p "$PG_PORT" -U updater "$DB" || die "createdb failed"
PG_URL="postgres://updater:$PG_PASSWORD@127.0.0.1:$PG_PORT/$DB"

# --- replicas ---------------------------------------------------------------
PORTS=""
for i in $(seq 0 $((REPLICAS - 1))); do
    dir="$WORK/replica$i"; mkdir -p "$dir"
    port=$((PORT + i))
    cat >"$dir/updater.yaml" <<EOF
bench:
  server: {host: 127.0.0.1, port: $port}
  security:
    rate_limit: {enabled: false}
    api_keys:
      - {name: bench, key: $KEY, permissions: [admin]}
  logging: {level: warn, format: json}
EOF
    (cd "$dir" && UPDATER_STORAGE__TYPE=postgres UPDATER_STORAGE__POSTGRES__URL="$PG_URL" \
        exec "$BIN" --config "$dir/updater.yaml" --section bench serve) >"$dir/updater.log" 2>&1 &
    UPDATER_PIDS+=($!)
    PORTS="${PORTS:+$PORTS,}$port"
done
for i in $(seq 0 $((REPLICAS - 1))); do
    wait_http "http://127.0.0.1:$((PORT + i))/health" "replica $i" "${UPDATER_PIDS[$i]}" "$WORK/replica$i/updater.log"
done
log "$REPLICAS replicas up on ports $PORTS; $(nproc) CPUs; load avg $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the measurement ----------------------------------------------------------
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "timing $WRITES registrations and $YANKS yanks"
set +e
python3 "$BENCH_DIR/propagation.py" --ports "$PORTS" --key "$KEY" --writes "$WRITES" --yanks "$YANKS" \
    --timeout "$TIMEOUT" --target-ms "$TARGET_MS" --raw "$WORK/observations.txt" >"$WORK/summary.txt"
probe_rc=$?
set -e
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 0 $((REPLICAS - 1))); do
    kill -0 "${UPDATER_PIDS[$i]}" 2>/dev/null || { probe_rc=1; log "replica $i died"; }
    if grep -q '"level":"ERROR"' "$WORK/replica$i/updater.log" 2>/dev/null; then
        log "replica $i logged errors:"; grep '"level":"ERROR"' "$WORK/replica$i/updater.log" | tail -n 5 >&2
    fi
done

# --- summary ------------------------------------------------------------------
elapsed=$(( $(date +%s) - START_TS ))
cat "$WORK/summary.txt"
echo "$(nproc) CPUs shared by PostgreSQL, $REPLICAS replicas and the prober; load avg before $LOAD_BEFORE, after $LOAD_AFTER."
echo "Total time: ${elapsed}s."
[ "$probe_rc" -eq 0 ] || die "propagation probe failed (rc=$probe_rc)"
