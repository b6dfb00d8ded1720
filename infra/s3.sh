#!/usr/bin/env bash
# Local S3-compatible server (s3rver, from node_modules) for tests and `npm start -- --real`.
#   infra/s3.sh start   → prints the S3_* settings      infra/s3.sh stop | url
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR="${S3_DATA_DIR:-$PWD/.data/s3}"
PORT="${S3_PORT:-45690}"
BUCKET="${S3_BUCKET_NAME:-pathx}"
PID_FILE="$DATA_DIR/s3rver.pid"

settings() {
  echo "S3_ENDPOINT=http://127.0.0.1:$PORT"
  echo "S3_REGION=us-east-1"
  echo "S3_BUCKET=$BUCKET"
  echo "S3_ACCESS_KEY_ID=S3RVER"
  echo "S3_SECRET_ACCESS_KEY=S3RVER"
}

answers() { node -e "fetch('http://127.0.0.1:$PORT/').then(() => process.exit(0), () => process.exit(1))"; }

case "${1:-start}" in
  start)
    mkdir -p "$DATA_DIR/data"
    if ! answers 2>/dev/null; then
      [ -x node_modules/.bin/s3rver ] || { echo "s3rver missing: run npm ci first" >&2; exit 1; }
      nohup node_modules/.bin/s3rver -d "$DATA_DIR/data" -a 127.0.0.1 -p "$PORT" --silent \
        --configure-bucket "$BUCKET" >"$DATA_DIR/s3rver.log" 2>&1 &
      pid=$!
      echo "$pid" >"$PID_FILE"
      # Until it answers (a loaded machine can take a while) or its process has ended.
      deadline=$((SECONDS + 120))
      until answers 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { echo "s3rver exited while starting; see $DATA_DIR/s3rver.log" >&2; exit 1; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "s3rver did not answer within 120 s; see $DATA_DIR/s3rver.log" >&2; exit 1; }
        sleep 0.2
      done
    fi
    settings
    ;;
  stop)
    if [ -f "$PID_FILE" ]; then
      pid="$(cat "$PID_FILE")"
      kill "$pid" 2>/dev/null || true
      # Gone before this returns, so a start right after finds the port free.
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$PID_FILE"
    ;;
  url) settings ;;
  *) echo "usage: infra/s3.sh start|stop|url" >&2; exit 2 ;;
esac
