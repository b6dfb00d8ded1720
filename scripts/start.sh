#!/usr/bin/env bash
# `npm start`: the hub on the embedded defaults (PGlite in .data/pglite, objects in
# .data/objects), demo data seeded on first start. Installs and builds what is missing.
# `npm start -- --real` (or PATHX_REAL_SERVICES=1): a local PostgreSQL and S3-compatible server
# instead (infra/postgres.sh, infra/s3.sh; ports PG_PORT, S3_PORT), as in the cloud.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

real="${PATHX_REAL_SERVICES:-0}"
for arg in "$@"; do
  case "$arg" in
    --real) real=1 ;;
    *) echo "usage: npm start [-- --real]" >&2; exit 2 ;;
  esac
done

ensure_node_modules
mkdir -p .data
export PGLITE_DIR="${PGLITE_DIR:-$PWD/.data/pglite}"
export STORAGE_DIR="${STORAGE_DIR:-$PWD/.data/objects}"
data="$PGLITE_DIR and $STORAGE_DIR"
if [ "$real" = 1 ] || [ "$real" = true ]; then
  # Each script prints KEY=VALUE lines; services already running are reused.
  export_settings() { local line; while IFS= read -r line; do [[ "$line" == *=* ]] && export "${line?}"; done <<<"$1"; }
  if [ -z "${DATABASE_URL:-}" ]; then
    settings=$(bash infra/postgres.sh start)
    export_settings "$settings"
    # One role for the hub, the workers and the migrations, as on RDS (terraform/): the queue
    # creates its own schema on first start.
    export DATABASE_URL="$MIGRATION_DATABASE_URL"
  fi
  if [ -z "${S3_BUCKET:-}" ]; then
    settings=$(bash infra/s3.sh start)
    export_settings "$settings"
  fi
  data="PostgreSQL at ${DATABASE_URL#*@} and S3 bucket $S3_BUCKET at ${S3_ENDPOINT:-AWS}"
fi
export PORT="${PORT:-3000}"
HOST="${HOST:-0.0.0.0}"
if [ -z "${AUTH_SECRET:-}" ]; then
  # A secret made once per installation and kept, so sessions survive restarts.
  [ -s .data/auth-secret ] || node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))' >.data/auth-secret
  AUTH_SECRET="$(cat .data/auth-secret)"
  export AUTH_SECRET
fi
export AUTH_URL="${AUTH_URL:-http://127.0.0.1:$PORT}"

# scripts/run.ts builds the web app (when needed) while it starts and seeds the database.
cat <<MSG

Telepathology exchange is starting at $AUTH_URL
On first start the demo slides are tiled in the background: watch them turn ready on the dashboard.
Data: $data

MSG
export HOST NEXT_TELEMETRY_DISABLED=1
exec npx tsx apps/hub/scripts/run.ts
