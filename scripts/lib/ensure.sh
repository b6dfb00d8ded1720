# Shared set-up for scripts/*.sh: install what is missing, nothing more.
# Debian packages are installed only when their command is absent (root on Debian; sudo otherwise).

apt_updated=""
ensure_apt() { # ensure_apt COMMAND PACKAGE... (a COMMAND never on PATH forces the install)
  local command="$1"; shift
  command -v "$command" >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: $* (for $command)"
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_node_modules() {
  # npm ci when node_modules is missing or older than the lockfile.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "Installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

ensure_hub_build() {
  # next build when there is no build or a source file changed since the last one.
  local build_id=apps/hub/.next/BUILD_ID
  if [ ! -f "$build_id" ] || [ -n "$(find apps/hub/src apps/hub/next.config.ts packages/*/src -newer "$build_id" -print -quit)" ]; then
    echo "Building the hub (about a minute)…"
    # Collecting page data loads the route modules, which check their settings; the real secret
    # is read at run time, never baked into the build.
    (cd apps/hub && AUTH_SECRET="${AUTH_SECRET:-build-only-secret-not-used-at-run-time}" NEXT_TELEMETRY_DISABLED=1 npx next build >/dev/null)
  fi
}
