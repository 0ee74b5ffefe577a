#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Kiln uses (QEMU, e2fsprogs, erofs-utils,
# busybox, a stock kernel for boot tests, ...). Idempotent: only missing
# packages are installed, and apt-get update runs only when something is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mapfile -t pkgs < <(grep -v '^\s*#' "$here/.ci/apt-packages" | grep -v '^\s*$')
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Kiln needs Node.js >= 20 (package.json "engines"). Debian 13 and Ubuntu 24.10
# ship it as `nodejs`; Debian 12 and Ubuntu 24.04 ship 18, so there it comes
# from NodeSource (https://github.com/nodesource/distributions) or nvm.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
need_node=""
[ "$(node_major)" -ge 20 ] || need_node=1
if [ ${#missing[@]} -eq 0 ] && [ -z "$need_node" ]; then
  echo "setup: all ${#pkgs[@]} Debian packages present, Node.js $(node --version)"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
if [ -n "$need_node" ]; then
  candidate=$(apt-cache policy nodejs 2>/dev/null | sed -n 's/ *Candidate: //p')
  if [ "${candidate%%.*}" -ge 20 ] 2>/dev/null; then
    missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
  else
    node_problem="Kiln needs Node.js >= 20; found $(node --version 2>/dev/null || echo none), and apt offers ${candidate:-none}"
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ -n "$need_node" ] && [ -z "${node_problem:-}" ] && [ "$(node_major)" -lt 20 ]; then
  node_problem="Kiln needs Node.js >= 20; after installing nodejs, $(command -v node || echo node) is $(node --version 2>/dev/null || echo missing)"
fi
if [ -n "${node_problem:-}" ]; then
  echo "setup: $node_problem" >&2
  echo "setup: install Node.js 20 from NodeSource (https://github.com/nodesource/distributions) or with nvm, then run this again" >&2
  exit 1
fi
