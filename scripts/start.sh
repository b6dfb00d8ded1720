#!/usr/bin/env bash
# `npm start`: the hub on the embedded defaults (PGlite in .data/pglite, objects in
# .data/objects), demo data seeded on first start. Installs and builds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

ensure_node_modules
mkdir -p .data
export PGLITE_DIR="${PGLITE_DIR:-$PWD/.data/pglite}"
export STORAGE_DIR="${STORAGE_DIR:-$PWD/.data/objects}"
export PORT="${PORT:-3000}"
HOST="${HOST:-0.0.0.0}"
if [ -z "${AUTH_SECRET:-}" ]; then
  # A secret made once per installation and kept, so sessions survive restarts.
  [ -s .data/auth-secret ] || node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))' >.data/auth-secret
  AUTH_SECRET="$(cat .data/auth-secret)"
  export AUTH_SECRET
fi
export AUTH_URL="${AUTH_URL:-http://127.0.0.1:$PORT}"

ensure_hub_build

cat <<MSG

Telepathology exchange is starting at $AUTH_URL
On first start the demo slides are tiled in the background: watch them turn ready on the dashboard.
Demo sign-ins (password: pathx-demo-2026):
  pathologist@north.example   pathologist, North Pathology Lab (3 slides, one 40 000 × 30 000)
  admin@north.example         lab admin, North Pathology Lab
  pathologist@south.example   pathologist, South University Hospital
  hub-admin@pathx.example     hub administrator
Data: $PGLITE_DIR and $STORAGE_DIR

MSG
export HOST NEXT_TELEMETRY_DISABLED=1
exec npx tsx apps/hub/scripts/run.ts
