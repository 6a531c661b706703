# Stand-in for the official rust:1.95-slim-bookworm (see make-images): same layout
# (RUSTUP_HOME, CARGO_HOME, PATH) and the same build packages, this machine's toolchain.
FROM debian:bookworm-slim
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    RUST_VERSION=1.95.0
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates=2023* gcc=4:12.* libc6-dev=2.36-* \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY toolchain/ /usr/local/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu/
COPY bin/ /usr/local/cargo/bin/
WORKDIR /usr/local/cargo/bin
RUN printf 'version = "12"\ndefault_toolchain = "1.95.0-x86_64-unknown-linux-gnu"\nprofile = "minimal"\n' >/usr/local/rustup/settings.toml \
 && for t in cargo rustc rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do ln -sf rustup "$t"; done \
 && chmod -R a+w /usr/local/rustup /usr/local/cargo \
 && rustc --version && cargo --version
WORKDIR /
