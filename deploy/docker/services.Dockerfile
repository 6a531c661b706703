# The three Cartwheel services, one target each, from one build of the workspace:
#
#   DOCKER_BUILDKIT=1 docker build -f deploy/docker/services.Dockerfile --target api-users    -t cartwheel/api-users .
#   DOCKER_BUILDKIT=1 docker build -f deploy/docker/services.Dockerfile --target api-products -t cartwheel/api-products .
#   DOCKER_BUILDKIT=1 docker build -f deploy/docker/services.Dockerfile --target api-orders   -t cartwheel/api-orders .
#
# The `build` stage compiles the three binaries at once; BuildKit builds it once and
# reuses it for the other two targets. Its cache mounts keep the crate registry and
# cargo's target directory between builds, so a source change recompiles only the
# workspace's own crates. Configuration is the environment at run time (API.md): no
# secret is in the image.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The default release profile (thin local LTO, 16 codegen units): the wasm profile's
# fat LTO would triple the build time for a few percent.
RUN --mount=type=cache,id=cartwheel-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=cartwheel-services-target,target=/src/target,sharing=locked \
    cargo build --release --locked -p api-users -p api-products -p api-orders \
 && mkdir -p /out \
 && cp target/release/api-users target/release/api-products target/release/api-orders /out/

# What the three images share: slim Debian, an unprivileged user, the probe.
FROM debian:bookworm-slim AS runtime
RUN groupadd --system --gid 10001 cartwheel \
 && useradd --system --uid 10001 --gid cartwheel --home-dir /var/lib/cartwheel --shell /usr/sbin/nologin cartwheel \
 && mkdir -p /var/lib/cartwheel/data \
 && chown -R cartwheel:cartwheel /var/lib/cartwheel
COPY deploy/docker/probe.sh /usr/local/bin/cartwheel-probe
# Listen on every interface of the container. Without DATABASE_URL a service keeps
# its SQLite default (data/ under the working directory): fine to try an image,
# PostgreSQL for anything else.
ENV HOST=0.0.0.0 \
    RUST_LOG=info
WORKDIR /var/lib/cartwheel
USER 10001:10001
# The services finish requests in flight on SIGTERM, then exit.
STOPSIGNAL SIGTERM

FROM runtime AS api-users
COPY --from=build /out/api-users /usr/local/bin/api-users
ENV PORT=5001
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["cartwheel-probe", "/healthz"]
ENTRYPOINT ["api-users"]

FROM runtime AS api-products
COPY --from=build /out/api-products /usr/local/bin/api-products
ENV PORT=5002
EXPOSE 5002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["cartwheel-probe", "/healthz"]
ENTRYPOINT ["api-products"]

FROM runtime AS api-orders
COPY --from=build /out/api-orders /usr/local/bin/api-orders
ENV PORT=5003
EXPOSE 5003
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["cartwheel-probe", "/healthz"]
ENTRYPOINT ["api-orders"]
