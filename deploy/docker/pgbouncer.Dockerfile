# PgBouncer in transaction mode between the services and PostgreSQL (compose.yaml):
# Debian's package (1.18) on debian:bookworm-slim. No official image exists; this
# one is built here like the mail catcher. Configured by its environment at start
# (pgbouncer-entrypoint.sh writes the configuration under /tmp), so the root file
# system can be read-only and the password is in no image layer.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends pgbouncer=1.18.* \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 bouncer \
 && useradd --system --uid 10001 --gid bouncer --no-create-home --shell /usr/sbin/nologin bouncer
COPY deploy/docker/pgbouncer-entrypoint.sh /usr/local/bin/pgbouncer-entrypoint
USER 10001:10001
EXPOSE 6432
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PGBOUNCER_PORT:-6432}"]
ENTRYPOINT ["pgbouncer-entrypoint"]
