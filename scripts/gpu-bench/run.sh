#!/usr/bin/env bash
# The packed GPU benchmark (made by scripts/pack-gpu-bench.sh): runs on a Linux x86-64 machine with
# an NVIDIA GPU and python3 + torch, no Node and no network. One command, under 8 minutes:
#   bash run.sh [OUTDIR]
# SIZE, ITER and MASKS (defaults 224, 10, 500) shrink it for a check on a machine without a GPU
# (scripts/pack-gpu-bench.sh --check runs it so on lavapipe); CARRIED_LOADER=1 uses the carried
# Vulkan loader even where the system has one.
# 1. node (carried xz-compressed, unpacked with python3's lzma) and the Vulkan loader (carried as a
#    .deb, unpacked into this folder when the system has no libvulkan.so.1);
# 2. an NVIDIA Vulkan ICD: the system's, or one written for libGLX_nvidia.so.0 (containers often
#    have the driver library but not its ICD file);
# 3. our benchmarks on that adapter: ResNet-18 forward at 224 (batch 1, 16; tuned against the 0.1.0
#    kernel), conv variants per shape, RISE N = 500, Abs-CAM Final; then PyTorch's ResNet-18 fp32
#    forward on the same GPU (and on the CPU) for the ratio, and PyTorch doing the same methods on
#    that GPU (bench/peers/torch_methods.py). Results (JSON + log) land in OUTDIR.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${OUT:-$here/results}}
mkdir -p "$out"
log="$out/gpu-bench.log"
exec > >(tee "$log") 2>&1
start=$(date +%s)
step() { echo; echo "== $* ($(($(date +%s) - start)) s)"; }

step "node"
if [ ! -x "$here/node" ]; then
  python3 - "$here" <<'PY'
import lzma, os, shutil, sys
d = sys.argv[1]
with lzma.open(os.path.join(d, "node.xz")) as src, open(os.path.join(d, "node"), "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(os.path.join(d, "node"), 0o755)
PY
fi
"$here/node" --version || { echo "node does not run here"; exit 1; }

step "Vulkan loader and NVIDIA ICD"
SIZE=${SIZE:-224} ITER=${ITER:-10} MASKS=${MASKS:-500}
if [ "${CARRIED_LOADER:-0}" = 1 ] || ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  mkdir -p "$here/vk"
  for deb in "$here"/debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$deb" "$here/vk"; else (cd "$here/vk" && ar p "$deb" data.tar.xz | tar xJ); fi
  done
  export LD_LIBRARY_PATH="$here/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "using the carried loader: $here/vk/usr/lib/x86_64-linux-gnu"
fi
icd=""
for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$f" ] && icd=$f && break
done
if [ -z "$icd" ]; then
  lib=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0 /{print $NF; exit}')
  if [ -n "$lib" ]; then
    icd="$here/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3"}}\n' "$lib" > "$icd"
  fi
fi
[ -n "$icd" ] && export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd" && echo "ICD: $icd"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true

cd "$here/app"
export WEBGPU_XAI_CACHE_DIR="$out/cache"
run() { echo "\$ $*"; timeout "$1" "${@:2}"; echo "(exit $?)"; }
step "probe: which adapter Dawn gives us"
run 60 "$here/node" -e "import('./dist/src/gpu/context.js').then(async ({GpuContext}) => { const c = await GpuContext.node(); console.log('adapter:', c.adapterInfo); await c.close(); })"
step "the adapter's FMA roof"
run 30 "$here/node" dist/bench/peak.js --groups 16384
step "ResNet-18 forward at $SIZE (tuned f32 and f16 vs the 0.1.0 kernel)"
run 180 "$here/node" dist/bench/forward.js --size "$SIZE" --batches 1,16 --iterations "$ITER" --baseline --precision f32,f16
step "conv variants per shape, batch 16"
run 90 "$here/node" dist/bench/conv.js --size "$SIZE" --batch 16 --reps 5
step "channel-blocked layout (NC4HW4) against NCHW, 3x3 convs of ResNet-18 at 224, batch 16"
run 60 "$here/node" dist/bench/layout.js --batch 16 --reps 5
step "RISE N = $MASKS at $SIZE"
run 60 "$here/node" dist/bench/rise.js --size "$SIZE" --masks "$MASKS"
step "Abs-CAM Final at $SIZE, layer4"
run 60 "$here/node" dist/bench/abscam.js --size "$SIZE"
cp -f bench/results/*.json "$out/" 2>/dev/null
step "PyTorch ResNet-18 fp32 forward on the same GPU, then on the CPU"
run 90 python3 "$here/torch_resnet.py" "$SIZE" 1,16 20 cuda | tee "$out/torch-cuda.json"
run 90 python3 "$here/torch_resnet.py" "$SIZE" 1,16 5 cpu | tee "$out/torch-cpu.json"
step "PyTorch doing the methods (RISE N = $MASKS, Abs-CAM Final, insertion + deletion) on the same GPU"
run 90 python3 "$here/torch_methods.py" "$SIZE" "$MASKS" "$SIZE" "$SIZE" cuda | tee "$out/torch-methods-cuda.json"
step "done"
