#!/usr/bin/env bash
# Packs the GPU benchmark into one folder (default: gpu-bench/, at most 60 MB) that runs with
# `bash gpu-bench/run.sh [OUTDIR]` on a Linux x86-64 machine with an NVIDIA GPU, python3 with torch
# and no network: the node binary (xz), dawn.node and the other runtime packages, the built dist/,
# the Vulkan loader .deb (apt-get download libvulkan1) and the PyTorch peer script.
#   bash scripts/pack-gpu-bench.sh [DIR] [--check]
# --check then runs the packed folder here, small (SIZE=64), with the carried node and Vulkan
# loader, on whatever adapter this machine has (lavapipe without a GPU), from a copy in /tmp with
# no repository around it.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=gpu-bench
check=0
for a in "$@"; do
  if [ "$a" = --check ]; then check=1; else dest=$a; fi
done
node scripts/build.mjs
rm -rf "$dest"
mkdir -p "$dest/app/node_modules" "$dest/debs"
echo "pack: node $(node --version) (xz)"
xz -T0 -6 -c "$(command -v node)" > "$dest/node.xz"
cp -r dist package.json "$dest/app/"
rm -rf "$dest/app/dist/test"
# Runtime packages only (webgpu with its linux-x64 build alone), and tinybench for the benches.
for pkg in webgpu tinybench pngjs jpeg-js; do cp -r "node_modules/$pkg" "$dest/app/node_modules/"; done
find "$dest/app/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
(cd "$dest/debs" && apt-get download libvulkan1 >/dev/null 2>&1) || {
  apt-get update -q >/dev/null && (cd "$dest/debs" && apt-get download libvulkan1 >/dev/null)
}
cp scripts/gpu-bench/run.sh bench/peers/torch_resnet.py bench/peers/torch_methods.py "$dest/"
size=$(du -sm "$dest" | cut -f1)
echo "pack: $dest is ${size} MB"
if [ "$size" -gt 60 ]; then echo "pack: over 60 MB" >&2; exit 1; fi
if [ "$check" = 1 ]; then
  tmp=$(mktemp -d)
  cp -r "$dest" "$tmp/gpu-bench"
  (cd / && env -i PATH=/usr/bin:/bin HOME="$tmp" SIZE=64 ITER=2 MASKS=64 CARRIED_LOADER=1 bash "$tmp/gpu-bench/run.sh" "$tmp/results")
  echo "pack: check results in $tmp/results"
  ls "$tmp/results"
fi
