#!/usr/bin/env bash
# Adoption analytics: what counting costs an update check, and how many rows
# it writes.
#
# 1. The JSON update check under wrk with analytics off and on, alternating
#    (BENCH_ROUNDS rounds of off then on) in the same run against a real
#    SQLite store; every request carries its own install id and one of 8
#    versions × 3 platforms. Prints req/s and p99 of each run, each round's
#    on/off ratio and their median.
# 2. bench/analytics-rows (the real aggregator and flush, in process, against
#    a real SQLite file) at 1,000 and 100,000 checks/s for BENCH_ROWS_SECONDS:
#    rows written per hour, CPU per recorded check, mean flush time.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
PORT="${BENCH_PORT:-18082}"
KEY="bench-analytics-key-0123456789abcdef0123"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
BIN="$TARGET/release/updater"

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]}"
    SUDO=(); [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n)
    "${SUDO[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
log "cargo build --release"
cargo build --release --locked --bin updater >&2

WORK="$(mktemp -d)"
UPDATER_PID=""
cleanup() { stop_pid "$UPDATER_PID"; if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'KEEP=1' ERR

cat >"$WORK/checks.lua" <<'LUA'
local versions = {"1.0.0","1.1.0","1.2.0","1.3.0","1.4.0","1.5.0","1.6.0","1.7.0"}
local platforms = {"linux","windows","darwin"}
local n = 0
request = function()
    n = n + 1
    local path = string.format(
        "/api/v1/updates/bench/check?current_version=%s&platform=%s&architecture=amd64&install_id=wrk-%d-%d",
        versions[n % 8 + 1], platforms[n % 3 + 1], math.random(1, 1000000000), n)
    return wrk.format("GET", path)
end
LUA

start() { # analytics.enabled
    local dir="$WORK/$1-$RANDOM"
    mkdir -p "$dir"
    cat >"$dir/updater.yaml" <<YAML
bench:
  server: {host: 127.0.0.1, port: $PORT, max_connections: 4096}
  storage: {type: sqlite, data_dir: $dir/data}
  security:
    allow_http_download_urls: true
    rate_limit: {enabled: false}
    api_keys:
      - {name: bench, key: $KEY, permissions: [admin]}
  logging: {level: warn, format: json}
  analytics: {enabled: $1}
YAML
    "$BIN" --config "$dir/updater.yaml" --section bench serve >"$dir/updater.log" 2>&1 &
    UPDATER_PID=$!
    wait_http "http://127.0.0.1:$PORT/health" updater "$UPDATER_PID" "$dir/updater.log"
    local api="http://127.0.0.1:$PORT/api/v1"
    curl -fsS -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
        -d '{"id":"bench","name":"Bench","platforms":["linux","windows","darwin"]}' "$api/applications"
    for platform in linux windows darwin; do
        for version in 1.7.0 2.0.0; do
            curl -fsS -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
                -d "{\"version\":\"$version\",\"platform\":\"$platform\",\"architecture\":\"amd64\",\"rollout_percentage\":$([ $version = 2.0.0 ] && echo 10 || echo 100),\"download_url\":\"https://cdn.example.com/$platform-$version\",\"checksum\":\"$(printf '%064d' 0)\",\"file_size\":1}" \
                "$api/updates/bench/register"
        done
    done
}

measure() { # analytics.enabled -> "rps p99"
    start "$1"
    wrk -t1 -c"$CONNECTIONS" -d2s -s "$WORK/checks.lua" "http://127.0.0.1:$PORT" >/dev/null
    wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/checks.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk-$1.txt"
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk-$1.txt")
    p99=$(awk '/Latency Distribution/ {d=1} d && $1 == "99%" {print $2; exit}' "$WORK/wrk-$1.txt")
    if [ "$1" = true ]; then
        curl -fsS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/v1/applications/bench/stats" \
            | grep -q '"checks":[1-9]' || die "analytics on, but /stats counted no checks"
    fi
    stop_pid "$UPDATER_PID"; UPDATER_PID=""
    echo "$rps $p99"
}

ROUNDS="${BENCH_ROUNDS:-3}"
log "wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds of off then on, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
ratios=()
printf '%-14s %10s %10s\n' "analytics" "req/s" "p99"
for round in $(seq 1 "$ROUNDS"); do
    read -r off_rps off_p99 < <(measure false)
    printf '%-14s %10s %10s\n' "off (round $round)" "$off_rps" "$off_p99"
    read -r on_rps on_p99 < <(measure true)
    printf '%-14s %10s %10s\n' "on (round $round)" "$on_rps" "$on_p99"
    ratios+=("$(awk -v on="$on_rps" -v off="$off_rps" 'BEGIN { printf "%.3f", on/off }')")
done
# Each round's two runs are back to back, so the median of the rounds'
# ratios is the figure least moved by other load on the machine.
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END {
    printf "on/off req/s ratio per round: "; for (i = 1; i <= NR; i++) printf "%s ", r[i]
    printf "\nmedian on/off ratio: %s\n", r[int((NR + 1) / 2)] }'

log "building bench/analytics-rows (release)"
(cd bench/analytics-rows && CARGO_TARGET_DIR="$TARGET" cargo build --release --locked -q)
log "rows written per hour, ${BENCH_ROWS_SECONDS:-30}s per rate"
"$TARGET/release/analytics-rows" 1000 100000
