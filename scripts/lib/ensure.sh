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
