#!/bin/sh
# The container image's entry (Dockerfile CMD): one image, one service per container, chosen by
# the first argument or PATHX_SERVICE (the image's build arg SERVICE). terraform/ecs.tf runs it
# as each task's command. Every file named below is checked to exist by terraform/image.test.ts.
set -eu
cd "$(dirname "$0")/../.."
service="${1:-${PATHX_SERVICE:-hub}}"
# `node --import tsx` runs TypeScript in one process (the tsx CLI would start a second node), as `npm start` does.
ts="node --import tsx"
case "$service" in
  hub)
    cd apps/hub
    exec node ../../node_modules/next/dist/bin/next start -p "${PORT:-3000}" -H "${HOST:-0.0.0.0}"
    ;;
  worker) exec $ts apps/worker/src/main.ts ;;
  tiles) exec $ts apps/tiles/src/main.ts ;;
  migrate) exec $ts packages/db/src/migrate-main.ts ;;
  *)
    echo "usage: start.sh hub|worker|tiles|migrate (or set PATHX_SERVICE)" >&2
    exit 2
    ;;
esac
