#!/usr/bin/env bash
# Gets a machine ready to run webgpu-xai; idempotent, quick when there is nothing to do.
#  1. npm dependencies (npm ci) when node_modules is missing or older than package-lock.json.
#  2. A WebGPU adapter for Dawn. Where none is found on Debian, installs Mesa >= 25 lavapipe (a
#     software Vulkan driver): bookworm's own Mesa 22.3 is refused by Dawn, bookworm-backports'
#     Mesa 25 works (docs/SEMANTICS.md §6). As root it installs; otherwise it prints the exact commands.
#  3. With --browser (the test suite): Debian's chromium, whose headless WebGPU the browser test uses.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export DEBIAN_FRONTEND=noninteractive
browser=0
[ "${1:-}" = "--browser" ] && browser=1

ensure_chromium() {
  [ "$browser" = 1 ] || return 0
  command -v chromium >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "setup: the browser test needs Chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
  echo "setup: installing chromium (for the browser test)"
  apt-get update -q && apt-get install -y -q chromium
}

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

if node scripts/probe-adapter.mjs 2>/dev/null; then ensure_chromium; exit 0; fi

echo "setup: Dawn found no WebGPU adapter; a Vulkan driver is needed (Mesa >= 25 lavapipe works without a GPU)"
codename=$( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}" )
case "$codename" in
  bookworm)
    source_line="deb http://deb.debian.org/debian bookworm-backports main"
    install=(apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1) ;;
  "")
    echo "setup: not a Debian system: install a Vulkan driver for your GPU, or Mesa >= 25 (lavapipe), then rerun" >&2
    exit 1 ;;
  *)
    source_line=""
    install=(apt-get install -y -q mesa-vulkan-drivers libvulkan1) ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "setup: run this script as root, or run these commands yourself:" >&2
  [ -n "$source_line" ] && echo "  echo '$source_line' | sudo tee /etc/apt/sources.list.d/bookworm-backports.list" >&2
  echo "  sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
fi

if [ -n "$source_line" ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "$source_line" > /etc/apt/sources.list.d/bookworm-backports.list
fi
apt-get update -q
"${install[@]}"

if ! node scripts/probe-adapter.mjs; then
  echo "setup: still no WebGPU adapter after installing Mesa; check 'vulkaninfo --summary' (package vulkan-tools)" >&2
  exit 1
fi
ensure_chromium
