# updater on distroless: a static musl binary, UID/GID 65532, read-only friendly.
# Base images are build arguments so operators can pin digests
# (--build-arg RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:...)
# and air-gapped builds can substitute local images.
ARG RUST_IMAGE=rust:1.95.0-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${RUST_IMAGE} AS build
ARG TARGET=x86_64-unknown-linux-musl
# musl-gcc compiles the bundled SQLite and mimalloc for the musl target.
# The pipe's last command (grep) decides, which is what is wanted here.
# hadolint ignore=DL3008,DL4006
RUN if ! command -v musl-gcc >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/*; \
    fi \
 && (rustup target list --installed | grep -qx "${TARGET}" || rustup target add "${TARGET}")
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock rust-toolchain.toml ./
COPY migrations ./migrations
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && cargo build --release --locked --target "${TARGET}" \
 && rm -rf src
COPY src ./src
COPY config.yaml ./
# Refuse anything that is not fully static: no interpreter, no shared libraries.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --target "${TARGET}" \
 && cp "target/${TARGET}/release/updater" /updater \
 && readelf --program-headers --dynamic /updater > /tmp/elf.txt \
 && if grep -qE 'INTERP|\(NEEDED\)' /tmp/elf.txt; then echo 'updater is not statically linked' >&2; exit 1; fi \
 && /updater --version \
 && mkdir -p /rootfs/app/data /rootfs/tmp \
 && chmod 0700 /rootfs/app/data && chmod 1777 /rootfs/tmp

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="updater" \
      org.opencontainers.image.description="Hardened self-hosted software-update server (distroless, static musl binary)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="updater" \
      org.opencontainers.image.source="https://example.invalid/updater" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /updater /usr/local/bin/updater
COPY --from=build --chown=65532:65532 /rootfs/app/data /app/data
COPY --from=build /src/config.yaml /app/config.yaml
WORKDIR /app
USER 65532:65532
# The container listens on all its interfaces; publish the port on the host's
# loopback or behind a TLS-terminating proxy (hence ALLOW_PUBLIC_HTTP).
ENV UPDATER_CONFIG=/app/config.yaml \
    UPDATER_CONFIG_SECTION=production \
    UPDATER_SERVER__HOST=0.0.0.0 \
    UPDATER_SERVER__ALLOW_PUBLIC_HTTP=true \
    UPDATER_STORAGE__DATA_DIR=/app/data
VOLUME ["/app/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/updater", "-health-check"]
ENTRYPOINT ["/usr/local/bin/updater"]
CMD ["serve"]
