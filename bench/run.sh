#!/usr/bin/env bash
# Update-check throughput benchmark: updater vs. nginx serving the same bytes,
# for the JSON update check and the Tauri and electron-updater endpoints.
# See bench/README.md. Usage: bench/run.sh   (tunables: see the BENCH_* below)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

DURATION="${BENCH_DURATION:-10s}"          # wrk -d
CONNECTIONS="${BENCH_CONNECTIONS:-64}"     # wrk -c
THREADS="${BENCH_THREADS:-2}"              # wrk -t
WARMUP="${BENCH_WARMUP:-2s}"               # discarded wrk run before each measurement ("0" to skip)
SIZES="${BENCH_SIZES:-1000 100000}"        # catalog sizes (releases), each on a fresh server
PORT="${BENCH_PORT:-18080}"                # updater
NGINX_PORT="${BENCH_NGINX_PORT:-18081}"    # nginx baseline
NGINX_WORKERS="${BENCH_NGINX_WORKERS:-auto}"
LOAD_WORKERS="${BENCH_LOAD_WORKERS:-16}"   # concurrent connections used to load the catalog
SKIP_BUILD="${BENCH_SKIP_BUILD:-0}"

KEY="bench-admin-key-0123456789abcdef0123456789"
APP="benchapp"
CHECK_PATH="/api/v1/updates/$APP/check?current_version=1.0.0&platform=linux&architecture=amd64"
# name=path: what is measured, each against nginx serving the identical body.
ENDPOINTS="${BENCH_ENDPOINTS:-check=$CHECK_PATH tauri=/tauri/$APP/stable/linux/x86_64/1.0.0 electron-updater=/electron-updater/$APP/latest-linux.yml}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/updater"

# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

START_TS=$(date +%s)

# --- prerequisites --------------------------------------------------------
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
NGINX="$(command -v nginx 2>/dev/null || true)"
[ -n "$NGINX" ] || { [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx; } || need+=(nginx-light)
if [ "${#need[@]}" -gt 0 ]; then
    log "installing: ${need[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
    NGINX="$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required"
[ -x "$NGINX" ] || die "nginx not found after install"

if [ "$SKIP_BUILD" != "1" ]; then
    log "building release binary (cargo build --release)"
    (cd "$ROOT" && cargo build --release)
fi
[ -x "$BIN" ] || die "no binary at $BIN"

# --- workspace and cleanup -------------------------------------------------
WORK="$(mktemp -d -t updater-bench.XXXXXX)"
UPDATER_PID=""
NGINX_PID=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$NGINX_PID"
    stop_pid "$UPDATER_PID"
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

for p in "$PORT" "$NGINX_PORT"; do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then die "port $p is already in use"; fi
done

# --- helpers ----------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# nginx RSS: master plus its workers.
nginx_rss_kib() {
    local total pid
    total=$(rss_kib "$1")
    for pid in $(cat "/proc/$1/task/$1/children" 2>/dev/null || ps -o pid= --ppid "$1" 2>/dev/null); do
        total=$((total + $(rss_kib "$pid")))
    done
    echo "$total"
}

to_ms() { # wrk time ("512.00us", "2.31ms", "1.02s", "1.00m") -> ms
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

# Parse a wrk --latency report: prints "rps p50_ms p99_ms errors".
parse_wrk() {
    local f="$1" rps p50 p99 non2xx sockerr
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$f")
    p50=$(to_ms "$(awk '/Latency Distribution/ {d=1} d && $1 == "50%" {print $2; exit}' "$f")")
    p99=$(to_ms "$(awk '/Latency Distribution/ {d=1} d && $1 == "99%" {print $2; exit}' "$f")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")
    sockerr=$(awk -F'[ ,]+' '/Socket errors:/ {s=0; for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+$/) s+=$i; print s}' "$f")
    [ -n "$rps" ] && [ -n "$p50" ] && [ -n "$p99" ] || { cat "$f" >&2; die "could not parse wrk output $f"; }
    echo "$rps $p50 $p99 $(( ${non2xx:-0} + ${sockerr:-0} ))"
}

run_wrk() { # url outfile
    local url="$1" out="$2"
    if [ "$WARMUP" != "0" ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
    fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" >"$out"
}

start_updater() { # dir
    local dir="$1"
    cat >"$dir/updater.yaml" <<EOF
bench:
  server: {host: 127.0.0.1, port: $PORT, max_connections: 4096}
  storage: {type: memory}
  security:
    allow_http_download_urls: true
    rate_limit: {enabled: false}
    api_keys:
      - {name: bench, key: $KEY, permissions: [admin]}
  logging: {level: warn, format: json}
EOF
    (cd "$dir" && exec "$BIN" --config "$dir/updater.yaml" --section bench serve) \
        >"$dir/updater.log" 2>&1 &
    UPDATER_PID=$!
    wait_http "http://127.0.0.1:$PORT/health" updater "$UPDATER_PID"
}

start_nginx() { # dir (containing check.json)
    local dir="$1"
    mkdir -p "$dir/www" "$dir/tmp"
    cp "$dir/check.json" "$dir/www/check.json"
    # nginx workers run as an unprivileged user (www-data when started as root):
    # let them reach the document root inside the private mktemp directory.
    chmod a+rx "$WORK" "$dir" "$dir/www"
    chmod a+r "$dir/www/check.json"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes $NGINX_WORKERS;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $dir/www;
        location / {
            default_type application/json;
            try_files /check.json =404;
        }
    }
}
EOF
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" >"$dir/nginx.out" 2>&1 &
    NGINX_PID=$!
    wait_http "http://127.0.0.1:$NGINX_PORT/health" nginx "$NGINX_PID"
}

api() { # method path body -> status code; response in $WORK/last.json
    curl -sS -o "$WORK/last.json" -w '%{http_code}' -X "$1" \
        -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        --data "$3" "http://127.0.0.1:$PORT$2"
}

# --- the runs -----------------------------------------------------------------
log "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP); catalog sizes: $SIZES; $(nproc) CPUs; load avg $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS="$WORK/results.txt"
: >"$RESULTS"

for size in $SIZES; do
    dir="$WORK/n$size"; mkdir -p "$dir"
    log "== catalog $size: starting updater (memory storage)"
    start_updater "$dir"

    code=$(api POST /api/v1/applications "{\"id\":\"$APP\",\"name\":\"Bench\",\"platforms\":[\"linux\",\"windows\",\"darwin\"]}")
    [ "$code" = 201 ] || { cat "$WORK/last.json" >&2; die "create application: HTTP $code"; }

    log "loading $size releases ($LOAD_WORKERS workers)"
    t0=$(date +%s.%N)
    python3 "$BENCH_DIR/load_catalog.py" --port "$PORT" --key "$KEY" --app "$APP" \
        --end "$size" --workers "$LOAD_WORKERS" >&2
    load_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    rss_loaded=$(rss_kib "$UPDATER_PID")

    expected=$(python3 "$BENCH_DIR/load_catalog.py" --port "$PORT" --key x --end "$size" --print-latest)
    for endpoint in $ENDPOINTS; do
        name="${endpoint%%=*}"; path="${endpoint#*=}"
        # Fetch the response once; it is what nginx will serve, byte for byte.
        code=$(curl -sS -o "$dir/$name.body" -w '%{http_code}' "http://127.0.0.1:$PORT$path")
        [ "$code" = 200 ] || { cat "$dir/$name.body" >&2; die "$name: HTTP $code"; }
        python3 - "$name" "$dir/$name.body" "$expected" <<'PY' || die "unexpected $name body: $(head -c 600 "$dir/$name.body")"
import json, sys
name, path, expected = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
if name == "check":
    body = json.loads(text)
    assert body.get("update_available") is True, body
    assert body.get("latest_version") == expected, (body.get("latest_version"), expected)
elif name == "tauri":
    assert json.loads(text)["version"] == expected, text
elif name == "electron-updater":
    assert text.startswith(f'version: "{expected}"\n'), text
PY
        log "$name body OK: $(wc -c <"$dir/$name.body") bytes, version $expected"

        log "wrk -> updater $name"
        load_u=$(load1)
        run_wrk "http://127.0.0.1:$PORT$path" "$dir/wrk-updater-$name.txt"
        res=$(parse_wrk "$dir/wrk-updater-$name.txt")
        read -r u_rps u_p50 u_p99 u_err <<<"$res"
        echo "$size $name updater $u_rps $u_p50 $u_p99 $(mib "$rss_loaded") $(mib "$(rss_kib "$UPDATER_PID")") $u_err $load_u $load_s" >>"$RESULTS"
    done
    stop_pid "$UPDATER_PID"; UPDATER_PID=""

    for endpoint in $ENDPOINTS; do
        name="${endpoint%%=*}"; path="${endpoint#*=}"
        log "starting nginx with the $name body"
        cp "$dir/$name.body" "$dir/check.json"
        start_nginx "$dir"
        curl -fsS -o "$dir/nginx-$name.body" "http://127.0.0.1:$NGINX_PORT$path"
        cmp -s "$dir/$name.body" "$dir/nginx-$name.body" || die "nginx $name body differs from the updater's"

        log "wrk -> nginx $name"
        load_n=$(load1)
        run_wrk "http://127.0.0.1:$NGINX_PORT$path" "$dir/wrk-nginx-$name.txt"
        res=$(parse_wrk "$dir/wrk-nginx-$name.txt")
        read -r n_rps n_p50 n_p99 n_err <<<"$res"
        n_rss=$(nginx_rss_kib "$NGINX_PID")
        stop_pid "$NGINX_PID"; NGINX_PID=""
        echo "$size $name nginx $n_rps $n_p50 $n_p99 - $(mib "$n_rss") $n_err $load_n -" >>"$RESULTS"
    done

    for f in "$dir"/wrk-*.txt; do
        log "--- $(basename "$f")"; sed 's/^/    /' "$f" >&2
    done
done

# --- summary ------------------------------------------------------------------
elapsed=$(( $(date +%s) - START_TS ))
{
    echo
    for endpoint in $ENDPOINTS; do echo "${endpoint%%=*}: GET ${endpoint#*=}"; done
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up), $(nproc) CPUs shared by wrk and the server"
    echo
    printf '%-9s %-17s %-8s %10s %9s %9s %12s %12s %7s %6s %8s\n' \
        catalog endpoint server req/s p50_ms p99_ms rss_loaded rss_after errors load1 load_s
    while read -r size name server rps p50 p99 rss1 rss2 err l1 ls; do
        [ "$rss1" = "-" ] || rss1="$rss1 MiB"
        printf '%-9s %-17s %-8s %10s %9s %9s %12s %12s %7s %6s %8s\n' \
            "$size" "$name" "$server" "$rps" "$p50" "$p99" "$rss1" "$rss2 MiB" "$err" "$l1" "$ls"
    done <"$RESULTS"
    echo
    awk '{ k = $1 " " $2; r[k " " $3] = $4; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
         END { for (i = 1; i <= n; i++) { k = order[i]; split(k, p, " ")
               printf "catalog %-7s %-17s updater/nginx req/s = %.2f\n", p[1], p[2], r[k " updater"] / r[k " nginx"] } }' "$RESULTS"
    echo
    echo "rss_loaded: updater VmRSS after the catalog load; rss_after: VmRSS after that endpoint's wrk run (nginx: master + workers)."
    echo "errors: non-2xx responses + socket errors; load1: 1-min load average when that wrk run started;"
    echo "load_s: seconds to register the catalog over HTTP. Total time: ${elapsed}s."
}
