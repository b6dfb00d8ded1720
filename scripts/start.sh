#!/usr/bin/env bash
# `npm start`: the hub on the embedded defaults (PGlite in .data/pglite, objects in
# .data/objects), demo data seeded on first start. Installs and builds what is missing.
# `npm start -- --real` (or PATHX_REAL_SERVICES=1): a local PostgreSQL and S3-compatible server
# instead (infra/postgres.sh, infra/s3.sh; ports PG_PORT, S3_PORT), as in the cloud.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh
source scripts/lib/private-data.sh

real="${PATHX_REAL_SERVICES:-0}"
for arg in "$@"; do
  case "$arg" in
    --real) real=1 ;;
    *) echo "usage: npm start [-- --real]" >&2; exit 2 ;;
  esac
done

ensure_node_modules
# The tile service decodes source tiles at half size through libturbojpeg; without it, tiles are slower, not wrong.
dpkg-query -W -f='${Status}' libturbojpeg0 2>/dev/null | grep -q 'ok installed' || ensure_apt libturbojpeg-not-on-path libturbojpeg0 || echo "libturbojpeg0 could not be installed: computed tiles take the slower full-decode path"
# The worker rewrites slides only OpenSlide reads (MRXS, Philips TIFF, Leica SCN, …) for serving; without it they fail with that reason.
dpkg-query -W -f='${Status}' libopenslide0 2>/dev/null | grep -q 'ok installed' || ensure_apt libopenslide-not-on-path libopenslide0 || echo "libopenslide0 could not be installed: MRXS and other OpenSlide-only slides cannot be made viewable"
private_data_dir .data
export PGLITE_DIR="${PGLITE_DIR:-$PWD/.data/pglite}"
export STORAGE_DIR="${STORAGE_DIR:-$PWD/.data/objects}"
# Signs the audit checkpoints; outside the database on purpose (AUDIT_SIGNING_KEY in the cloud).
export AUDIT_KEY_FILE="${AUDIT_KEY_FILE:-$PWD/.data/audit-signing-key.pem}"
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
bind_note=""
if [ -z "${HOST:-}" ]; then
  # The demo accounts' password is printed below and in the README: loopback only, unless the
  # operator chooses an address.
  HOST=127.0.0.1
  bind_note="Listening on 127.0.0.1 only, because the demo accounts' password is public. To serve other machines, change those passwords and set HOST (e.g. HOST=0.0.0.0)."
fi
if [ -z "${AUTH_SECRET:-}" ]; then
  # A secret made once per installation and kept (0600), so sessions survive restarts.
  AUTH_SECRET="$(ensure_auth_secret .data/auth-secret)"
  export AUTH_SECRET
fi
export AUTH_URL="${AUTH_URL:-http://127.0.0.1:$PORT}"
if [ -z "${TILE_TOKEN_SECRET:-}" ]; then
  # The key the hub signs tile tokens with and the tile service checks them with; kept 0600.
  if [ ! -s .data/tile-token-secret ]; then
    (umask 077; node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))' >.data/tile-token-secret)
  fi
  TILE_TOKEN_SECRET="$(cat .data/tile-token-secret)"
  export TILE_TOKEN_SECRET
fi

# scripts/run.ts builds the web app (when needed) while it starts and seeds the database.
cat <<MSG

Telepathology exchange is starting at $AUTH_URL
Slides are viewed through the tile service at ${TILES_PUBLIC_URL:-http://127.0.0.1:${TILES_PORT:-$((PORT + 1))}} (tiles on demand from the object store).
On first start the demo slides are prepared in the background: watch them turn ready on the dashboard.
Data: $data
${bind_note}

MSG
export HOST NEXT_TELEMETRY_DISABLED=1
# One process: node runs run.ts through tsx's loader (npx and the tsx CLI would add three).
exec node --import tsx apps/hub/scripts/run.ts
