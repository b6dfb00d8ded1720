#!/usr/bin/env bash
# Local PostgreSQL for tests and `npm start -- --real`: Debian's package, a private cluster on
# 127.0.0.1, a database owned by a migrator role and used by a non-owner app role.
#   infra/postgres.sh start   → prints DATABASE_URL (app role) and MIGRATION_DATABASE_URL
#   infra/postgres.sh stop | url
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

DATA_DIR="${PG_DATA_DIR:-$PWD/.data/pg}"
PORT="${PG_PORT:-54329}"
DB="${PG_DATABASE:-pathx}"
SOCKET_DIR="$DATA_DIR/socket"

pg_bin() {
  local dir
  # The server's folder (the client package alone has psql there but no initdb).
  dir=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && dirname "$dir"
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

urls() {
  echo "DATABASE_URL=postgres://pathx_app:pathx_app@127.0.0.1:$PORT/$DB"
  echo "MIGRATION_DATABASE_URL=postgres://pathx_owner:pathx_owner@127.0.0.1:$PORT/$DB"
}

case "${1:-start}" in
  start)
    [ -n "$(pg_bin)" ] || ensure_apt initdb-not-on-path postgresql
    BIN=$(pg_bin)
    mkdir -p "$DATA_DIR"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$DATA_DIR"
      # The server runs as postgres: it may pass through the (0700) parent, e.g. .data, not list it.
      chmod o+x "$(dirname "$DATA_DIR")"
    fi
    if [ ! -f "$DATA_DIR/cluster/PG_VERSION" ]; then
      as_postgres mkdir -p "$DATA_DIR/cluster" "$SOCKET_DIR"
      as_postgres "$BIN/initdb" -D "$DATA_DIR/cluster" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    as_postgres mkdir -p "$SOCKET_DIR"
    if ! as_postgres "$BIN/pg_ctl" -D "$DATA_DIR/cluster" status >/dev/null 2>&1; then
      as_postgres "$BIN/pg_ctl" -D "$DATA_DIR/cluster" -l "$DATA_DIR/cluster/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCKET_DIR -c fsync=off" start >/dev/null
    fi
    psql_() { as_postgres "$BIN/psql" -h "$SOCKET_DIR" -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    psql_ -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pathx_owner') THEN CREATE ROLE pathx_owner LOGIN PASSWORD 'pathx_owner'; END IF;
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pathx_app') THEN CREATE ROLE pathx_app LOGIN PASSWORD 'pathx_app'; END IF;
    END \$\$;"
    if [ -z "$(psql_ -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
      psql_ -c "CREATE DATABASE $DB OWNER pathx_owner"
    fi
    # The app role reads and writes what the owner's migrations create, and owns nothing.
    psql_ -d "$DB" -c "GRANT USAGE, CREATE ON SCHEMA public TO pathx_owner;
      GRANT USAGE ON SCHEMA public TO pathx_app;
      ALTER DEFAULT PRIVILEGES FOR ROLE pathx_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO pathx_app;
      ALTER DEFAULT PRIVILEGES FOR ROLE pathx_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO pathx_app;"
    urls
    ;;
  stop)
    BIN=$(pg_bin)
    [ -n "$BIN" ] && [ -f "$DATA_DIR/cluster/PG_VERSION" ] && as_postgres "$BIN/pg_ctl" -D "$DATA_DIR/cluster" -m fast stop >/dev/null 2>&1 || true
    ;;
  url) urls ;;
  *) echo "usage: infra/postgres.sh start|stop|url" >&2; exit 2 ;;
esac
