#!/usr/bin/env bash
# Provides the base images the Dockerfiles name. When the registry images can
# be pulled they are used as they are; on machines without registry access,
# local stand-ins are built and their names printed as --build-arg values:
#   - a Debian bookworm builder with this machine's Rust toolchain (1.95.0,
#     musl target), musl-tools, binutils, CA certificates and tzdata;
#   - a distroless/static-equivalent runtime: passwd/group with root and
#     nonroot (65532), the CA bundle, tzdata, /tmp, /home/nonroot.
# Output (stdout): the --build-arg flags to pass to `docker build`.
set -euo pipefail

RUST_IMAGE=rust:1.95.0-bookworm
RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot
LOCAL_BUILDER=updater-local/rust-builder:1.95.0-bookworm
LOCAL_RUNTIME=updater-local/distroless-static:nonroot
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
log() { echo "[base-images] $*" >&2; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

pull() {
    have_image "$1" && return 0
    timeout 60 docker pull -q "$1" >/dev/null 2>&1
}

builder_args=""
if pull "$RUST_IMAGE"; then
    log "using $RUST_IMAGE from the registry"
else
    if ! have_image "$LOCAL_BUILDER"; then
        log "registry unreachable: building the stand-in builder $LOCAL_BUILDER"
        command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >&2
        rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
            || rustup target add x86_64-unknown-linux-musl >&2
        work=$(mktemp -d)
        trap 'rm -rf "$work"' EXIT
        root="$work/root"
        debootstrap --variant=minbase --include=gcc,libc6-dev,musl-tools,binutils,ca-certificates,tzdata,make \
            bookworm "$root" "$MIRROR" >&2
        cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
        toolchain_dir=$(rustc --print sysroot)
        mkdir -p "$root/usr/local/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu" "$root/usr/local/cargo/bin"
        tar -C "$toolchain_dir" --exclude=share/doc -cf - . \
            | tar -C "$root/usr/local/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu" -xf -
        printf 'version = "12"\ndefault_toolchain = "1.95.0-x86_64-unknown-linux-gnu"\nprofile = "minimal"\n' \
            > "$root/usr/local/rustup/settings.toml"
        rustup_bin=$(command -v rustup)
        cp "$(readlink -f "$rustup_bin")" "$root/usr/local/cargo/bin/rustup"
        for proxy in cargo rustc rustdoc; do ln -sf rustup "$root/usr/local/cargo/bin/$proxy"; done
        rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
        tar -C "$root" -c . | docker import \
            --change 'ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["/bin/bash"]' - "$LOCAL_BUILDER" >&2
        rm -rf "$work"
        trap - EXIT
    fi
    builder_args="--build-arg RUST_IMAGE=$LOCAL_BUILDER"
fi

runtime_args=""
if pull "$RUNTIME_IMAGE"; then
    log "using $RUNTIME_IMAGE from the registry"
else
    if ! have_image "$LOCAL_RUNTIME"; then
        log "registry unreachable: building the stand-in runtime $LOCAL_RUNTIME"
        root=$(mktemp -d)
        mkdir -p "$root/etc/ssl/certs" "$root/usr/share" "$root/tmp" "$root/home/nonroot"
        printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
        printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "$root/etc/group"
        cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
        cp -r /usr/share/zoneinfo "$root/usr/share/"
        chmod 1777 "$root/tmp"
        chown 65532:65532 "$root/home/nonroot"
        tar -C "$root" -c . | docker import --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' - "$LOCAL_RUNTIME" >&2
        rm -rf "$root"
    fi
    runtime_args="--build-arg RUNTIME_IMAGE=$LOCAL_RUNTIME"
fi

echo "$builder_args $runtime_args"
