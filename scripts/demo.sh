#!/usr/bin/env bash
# The main job on the bundled demo (weights/: a narrow ResNet-18 trained on synthetic microscope
# images, and one held-out image): classify it, explain the prediction with Abs-CAM Final and
# RISE, and score both maps with insertion and deletion. Everything lands in out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cli() { node bin/webgpu-xai.js "$@"; }
W=weights/demo-resnet18-w16.pth
I=weights/demo.png
O=out/demo
common=(--weights "$W" --input "$I" --size 112)

cli predict "${common[@]}" --labels weights/demo-labels.txt --out "$O/predict"
cli explain --method abscam-final "${common[@]}" --out "$O/abscam-final"
cli explain --method rise --masks 1000 "${common[@]}" --out "$O/rise"
for method in abscam-final rise; do
  cli evaluate --metric both "${common[@]}" --saliency "$O/$method/saliency.npy" --step 112 --out "$O/$method/metrics"
done
echo "demo: overlays in $O/*/overlay.png, curves in $O/*/metrics/curve-*.svg"
