# Secrets 0600 and data folders 0700 whatever the caller's umask (sourced by scripts/start.sh).

# private_data_dir DIR: creates DIR if needed, owner-only (0700) even if it existed before.
private_data_dir() {
  mkdir -p "$1"
  chmod 700 "$1"
}

# ensure_auth_secret FILE: prints the installation's session secret, making it (0600) on first use.
ensure_auth_secret() {
  local file="$1"
  if [ ! -s "$file" ]; then
    (umask 077 && node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))' >"$file.tmp" && mv "$file.tmp" "$file")
  fi
  chmod 600 "$file"   # also repairs a secret an older version left world-readable
  cat "$file"
}
