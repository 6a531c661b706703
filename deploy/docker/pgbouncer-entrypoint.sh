#!/usr/bin/env bash
# Writes PgBouncer's configuration from the environment, then runs it:
#   PGBOUNCER_UPSTREAM      host:port of PostgreSQL (postgres:5432)
#   PGBOUNCER_USER          the one role clients log in as, and PgBouncer as them
#   PGBOUNCER_PASSWORD      its password (clients authenticate with SCRAM)
#   PGBOUNCER_POOL_SIZE     server connections per database (20)
#   PGBOUNCER_MAX_CLIENTS   client connections in all (2000)
#   PGBOUNCER_PORT          where it listens (6432)
# Every database of the upstream is served under its own name, in transaction
# mode: a server connection belongs to a client for one transaction only, which
# the services are built for (README: "Scaling past one PostgreSQL").
set -euo pipefail
: "${PGBOUNCER_USER:?}" "${PGBOUNCER_PASSWORD:?}"
upstream=${PGBOUNCER_UPSTREAM:-postgres:5432}
dir=/tmp/pgbouncer
mkdir -p "$dir"
umask 077
printf '"%s" "%s"\n' "$PGBOUNCER_USER" "${PGBOUNCER_PASSWORD//\"/\"\"}" >"$dir/userlist.txt"
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=${upstream%:*} port=${upstream##*:}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = ${PGBOUNCER_PORT:-6432}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
max_client_conn = ${PGBOUNCER_MAX_CLIENTS:-2000}
; tokio-postgres sends none, psql and others do
ignore_startup_parameters = extra_float_digits
; transaction mode: no session state to reset between clients
server_reset_query =
logfile =
pidfile =
INI
exec pgbouncer "$dir/pgbouncer.ini"
