#!/usr/bin/env bash
# Fuzzes the served OpenAPI document (/api/v1/openapi.json) of the real
# updater binary with schemathesis, once per kind of API key: anonymous,
# read, monitor, write, admin. Every response must be a non-5xx whose status,
# content type and body the document describes.
#
#   tests/schemathesis/run.sh
#
# UPDATER_BIN        the binary to test; default: `cargo build --locked` and
#                    ${CARGO_TARGET_DIR:-<repo>/target}/debug/updater
# ST_EXAMPLES        examples per operation and phase (default 80)
# ST_SEED            the random seed, for reproducible runs (default 20261203)
# ST_MIN_REQUESTS    fail when the runs together sent fewer (default 10000)
# SCHEMATHESIS_VENV  where schemathesis is installed (default <target>/schemathesis-venv)
# ST_REPORT_DIR      NDJSON reports, schemathesis and server logs (default <target>/schemathesis)
#
# Reproduce one failure: the summary prints the request; `st replay` or the
# NDJSON report in ST_REPORT_DIR has the rest.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"

ST_VERSION=4.32.5
VENV="${SCHEMATHESIS_VENV:-$TARGET/schemathesis-venv}"
EXAMPLES="${ST_EXAMPLES:-80}"
SEED="${ST_SEED:-20261203}"
MIN_REQUESTS="${ST_MIN_REQUESTS:-10000}"
REPORTS="${ST_REPORT_DIR:-$TARGET/schemathesis}"
CHECKS=not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance

ADMIN_KEY=st-admin-key-0123456789abcdef0123456789abcdef
WRITE_KEY=st-write-key-0123456789abcdef0123456789abcdef
READ_KEY=st-read-key-0123456789abcdef0123456789abcdef0
MONITOR_KEY=st-monitor-key-0123456789abcdef0123456789abc
SHA256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
SHA512=$SHA256$SHA256
SHA1=0123456789abcdef0123456789abcdef01234567

log() { printf '[schemathesis] %s\n' "$*" >&2; }
START=$(date +%s)

# ------------------------------------------------------------ schemathesis
if ! "$VENV/bin/st" --version 2>/dev/null | grep -qF "$ST_VERSION"; then
    log "installing schemathesis $ST_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
ST="$VENV/bin/st"

# ------------------------------------------------------------ the binary
if [ -z "${UPDATER_BIN:-}" ]; then
    log "UPDATER_BIN unset, building the updater"
    (cd "$REPO" && cargo build --locked --bin updater)
    UPDATER_BIN="$TARGET/debug/updater"
fi
UPDATER_BIN="$(realpath "$UPDATER_BIN")"

# ------------------------------------------------------------ the server
WORK="$(mktemp -d)"
SERVER_PID=
cleanup() {
    set +e
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$REPORTS"
rm -f "$REPORTS"/*.ndjson "$REPORTS"/*.log

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"

# No rate limit, and a lock-out that never triggers: the fuzzer sends
# thousands of requests and many invalid keys from one address. A short
# verification timeout: a fuzzed application may turn on verify_on_register,
# and its registrations then try to download from hosts that do not answer.
cat >"$WORK/config.yaml" <<EOF
fuzz:
  server:
    host: 127.0.0.1
    drain_delay: 0s
  storage:
    type: sqlite
    data_dir: $WORK/data
  security:
    rate_limit:
      enabled: false
    auth_failure_limit:
      failures_per_minute: 100000000
      lockout: 1s
    artifact_verification:
      timeout: 2s
    api_keys:
      - {name: st-admin, key: $ADMIN_KEY, permissions: [admin]}
      - {name: st-write, key: $WRITE_KEY, permissions: [write]}
      - {name: st-read, key: $READ_KEY, permissions: [read]}
      - {name: st-monitor, key: $MONITOR_KEY, permissions: [monitor]}
  logging:
    level: error
    format: json
EOF

# The server reads every UPDATER_* variable as configuration (and refuses
# unknown ones, such as UPDATER_BIN): it gets none of them.
unset_updater=()
for name in $(compgen -e); do
    [[ $name == UPDATER_* ]] && unset_updater+=(-u "$name")
done
log "starting $UPDATER_BIN on $BASE"
env "${unset_updater[@]}" "$UPDATER_BIN" --config "$WORK/config.yaml" --section fuzz serve --port "$PORT" \
    >"$REPORTS/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 200); do
    curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$REPORTS/server.log" >&2; log "the server exited"; exit 1; }
    sleep 0.1
done
curl -fsS -o /dev/null "$BASE/health/ready" || { log "the server is not ready"; exit 1; }

# ------------------------------------------------------------ seed data
# call METHOD PATH BODY ALLOWED-STATUSES: an admin request that must answer
# one of the allowed statuses (a repeated seed meets 409s).
call() {
    local status
    status=$(curl -sS -o "$WORK/response" -w '%{http_code}' -X "$1" "$BASE$2" \
        -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' --data "$3")
    if [[ " $4 " != *" $status "* ]]; then
        log "seed: $1 $2 answered $status, not one of $4"
        cat "$WORK/response" >&2
        exit 1
    fi
}

# Before every run, as the one before may have deleted or changed any of it:
# `desk` with releases on several tracks (a required one, a stepping stone,
# a pre-release, another channel, multi-file Windows and macOS releases, a
# staged rollout), and `tool` with none.
seed() {
    local app
    for app in desk tool; do
        call POST /api/v1/applications "{\"id\":\"$app\",\"name\":\"$app\",\"platforms\":[\"linux\"]}" "201 409"
    done
    call PUT /api/v1/applications/desk '{"name":"Desk","description":"Seeded by the schemathesis suite","platforms":["linux","windows","darwin"],
        "config":{"update_check_url":"","auto_update":true,"update_interval":3600,"required_update":false,"min_version":"","max_version":"",
        "allow_prerelease":false,"custom_fields":{"team":"desktop"},"notification_url":"","analytics_enabled":false,
        "tauri_public_key":"","sparkle_public_key":"","verify_on_register":false}}' 200
    call PUT /api/v1/applications/tool '{"name":"Tool","description":"","platforms":["linux","android"],
        "config":{"required_update":false,"min_version":"1.0.0","max_version":"","allow_prerelease":true,
        "tauri_public_key":"","sparkle_public_key":"","verify_on_register":false}}' 200

    local single="\"download_url\":\"https://cdn.example.com/desk/VERSION/desk.tar.gz\",\"checksum\":\"$SHA256\",\"file_size\":1048576"
    local v body
    for v in 1.1.0 1.2.0 2.0.0 2.1.0-beta.1; do
        body="{\"version\":\"$v\",\"platform\":\"linux\",\"architecture\":\"amd64\",${single//VERSION/$v},\"release_notes\":\"Desk $v\""
        case $v in
            1.1.0) body+=',"required":true' ;;
            2.0.0) body+=',"minimum_version":"1.2.0","metadata":{"min_os":"ubuntu-22.04"},"signature":"dW50cnVzdGVkIGNvbW1lbnQ6IHNpZ25hdHVyZQ=="' ;;
        esac
        call POST /api/v1/updates/desk/register "$body}" "201 409"
    done
    call POST /api/v1/updates/desk/register "{\"version\":\"3.0.0\",\"platform\":\"linux\",\"architecture\":\"arm64\",\"channel\":\"beta\",${single//VERSION/3.0.0}}" "201 409"
    call POST /api/v1/updates/desk/register "{\"version\":\"2.0.0\",\"platform\":\"windows\",\"architecture\":\"amd64\",\"rollout_percentage\":50,
        \"release_date\":\"2026-01-02T03:04:05Z\",\"minimum_system_version\":\"10.0.17763\",\"files\":[
        {\"kind\":\"nsis\",\"url\":\"https://cdn.example.com/desk/2.0.0/desk-2.0.0-setup.exe\",\"size\":2048,\"sha256\":\"$SHA256\",\"sha512\":\"$SHA512\"},
        {\"url\":\"https://cdn.example.com/desk/2.0.0/desk-2.0.0-full.nupkg\",\"size\":4096,\"sha512\":\"$SHA512\",\"sha1\":\"$SHA1\",
         \"blockmap_url\":\"https://cdn.example.com/desk/2.0.0/desk-2.0.0-full.nupkg.blockmap\",\"blockmap_size\":100}]}" "201 409"
    call POST /api/v1/updates/desk/register "{\"version\":\"2.0.0\",\"platform\":\"darwin\",\"architecture\":\"arm64\",\"minimum_system_version\":\"10.15\",\"files\":[
        {\"url\":\"https://cdn.example.com/desk/2.0.0/Desk.app.tar.gz\",\"size\":8192,\"sha256\":\"$SHA256\"},
        {\"url\":\"https://cdn.example.com/desk/2.0.0/Desk-2.0.0.dmg\",\"size\":8192,\"sha256\":\"$SHA256\"}]}" "201 409"
}

# ------------------------------------------------------------ the runs
# Admin last: it may delete what the other runs read.
KINDS=(anonymous read monitor write admin)
declare -A KEY=([read]=$READ_KEY [monitor]=$MONITOR_KEY [write]=$WRITE_KEY [admin]=$ADMIN_KEY)
FAILED_RUNS=()
REPORT_ARGS=()
for kind in "${KINDS[@]}"; do
    seed
    auth=()
    [ "$kind" = anonymous ] || auth=(--header "Authorization: Bearer ${KEY[$kind]}")
    log "run: $kind key ($EXAMPLES examples per operation and phase, seed $SEED)"
    run_start=$(date +%s)
    status=0
    (cd "$WORK" && "$ST" --config-file "$HERE/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
        "${auth[@]}" \
        --checks "$CHECKS" \
        --max-examples "$EXAMPLES" \
        --seed "$SEED" \
        --workers 1 \
        --request-timeout 10 \
        --no-color \
        --report ndjson --report-ndjson-path "$REPORTS/$kind.ndjson" \
        >"$REPORTS/$kind.log" 2>&1) || status=$?
    grep -E '^ *[0-9]+ generated' "$REPORTS/$kind.log" | sed "s/^ */[schemathesis] $kind: /" >&2 || true
    log "$kind: schemathesis exited $status after $(($(date +%s) - run_start))s (log: $REPORTS/$kind.log)"
    [ "$status" = 0 ] || FAILED_RUNS+=("$kind")
    if [ -s "$REPORTS/$kind.ndjson" ]; then
        REPORT_ARGS+=("$kind=$REPORTS/$kind.ndjson")
    else
        tail -20 "$REPORTS/$kind.log" >&2
        FAILED_RUNS+=("$kind (no report)")
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -20 "$REPORTS/server.log" >&2
        log "the server died during the $kind run"
        exit 1
    fi
done

# ------------------------------------------------------------ figures
echo
summary_status=0
python3 "$HERE/summary.py" --min-requests "$MIN_REQUESTS" "${REPORT_ARGS[@]}" || summary_status=$?
if grep -q '"level":"ERROR"' "$REPORTS/server.log"; then
    log "the server logged errors:"
    grep '"level":"ERROR"' "$REPORTS/server.log" | head -20 >&2
    summary_status=1
fi
log "finished in $(($(date +%s) - START))s"
if [ "${#FAILED_RUNS[@]}" -gt 0 ]; then
    log "schemathesis failed for: ${FAILED_RUNS[*]} (see the logs in $REPORTS)"
    exit 1
fi
exit "$summary_status"
