# The SPA: built by Trunk from source, served by nginx as static files. Two builds
# of the one app: the shopper's (/), and under /admin/ the admin's, with the admin
# pages the shopper's leaves out (app/src/pages/admin/mod.rs).
#
#   DOCKER_BUILDKIT=1 docker build -f deploy/docker/spa.Dockerfile -t cartwheel/spa .
#   docker run -p 127.0.0.1:8080:8080 -e PUBLIC_USERS_URL=https://users.shop.example \
#     -e PUBLIC_PRODUCTS_URL=... -e PUBLIC_ORDERS_URL=... cartwheel/spa
#
# config.json and the Content-Security-Policy are written from PUBLIC_*_URL when the
# container starts (entrypoint.sh), so one image serves any deployment.

FROM rust:1.95-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Trunk and the wasm-bindgen CLI of exactly the version in Cargo.lock (see
# ../../README.md, toolchain notes): installed once, then cached with this layer.
ARG TRUNK_VERSION=0.21.14
ARG WASM_BINDGEN_VERSION=0.2.130
RUN --mount=type=cache,id=cartwheel-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    { trunk --version 2>/dev/null | grep -qF " $TRUNK_VERSION" \
      || cargo install trunk --locked --version "$TRUNK_VERSION"; } \
 && { wasm-bindgen --version 2>/dev/null | grep -qF " $WASM_BINDGEN_VERSION" \
      || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"; } \
 && { rustup target list --installed | grep -qx wasm32-unknown-unknown \
      || rustup target add wasm32-unknown-unknown; }
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=cartwheel-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=cartwheel-spa-target,target=/src/target,sharing=locked \
    cargo fetch --locked \
 && trunk build --release --offline --dist /dist \
 && trunk build --release --offline --features admin --dist /dist/admin --public-url /admin/ \
 && mkdir -p /csp \
 && deploy/docker/spa/inline-hashes.sh script /dist/index.html /dist/admin/index.html >/csp/script-src \
 && deploy/docker/spa/inline-hashes.sh style /dist/index.html /dist/admin/index.html >/csp/style-src

# Precompressed copies for nginx's gzip_static and brotli_static.
FROM debian:bookworm-slim AS compress
RUN apt-get update \
 && apt-get install -y --no-install-recommends brotli=1.0.9-* \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /dist /dist
# config.json is written at start (entrypoint.sh); the builds' copies would only mislead.
RUN rm -f /dist/config.json /dist/admin/config.json \
 && find /dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name '*.json' \) \
      -exec gzip -9 -k -n {} \; -exec brotli -q 11 -k {} \;

FROM debian:bookworm-slim AS spa
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light=1.22.* libnginx-mod-http-brotli-static=1.0.0* \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* /var/www/html \
 && groupadd --system --gid 10001 cartwheel \
 && useradd --system --uid 10001 --gid cartwheel --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cartwheel
COPY deploy/docker/spa/nginx.conf /etc/nginx/nginx.conf
COPY deploy/docker/spa/headers.conf /etc/nginx/cartwheel-headers.conf
COPY deploy/docker/spa/entrypoint.sh /usr/local/bin/cartwheel-spa
COPY deploy/docker/probe.sh /usr/local/bin/cartwheel-probe
COPY --from=compress /dist /usr/share/cartwheel/spa
COPY --from=build /csp /usr/share/cartwheel/csp
# Defaults for a shop on this machine (compose.yaml); set them for any other.
ENV PUBLIC_USERS_URL=http://127.0.0.1:5001 \
    PUBLIC_PRODUCTS_URL=http://127.0.0.1:5002 \
    PUBLIC_ORDERS_URL=http://127.0.0.1:5003 \
    PORT=8080
# (PORT is where nginx listens, fixed in nginx.conf; the health probe reads it.)
# Everything it writes goes to /tmp (a tmpfs or emptyDir with a read-only root).
USER 10001:10001
EXPOSE 8080
# nginx's graceful stop is SIGQUIT; SIGTERM is its fast stop, fine for static files.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["cartwheel-probe", "/healthz"]
ENTRYPOINT ["cartwheel-spa"]
