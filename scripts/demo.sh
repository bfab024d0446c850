#!/usr/bin/env bash
# The bundled demo (weights/: a narrow ResNet-18 trained on synthetic microscope images, one
# held-out image and the demo set of 12 images with object masks): classify the image, then
# `report` on the demo set with the reference project's four methods, insertion, deletion and the
# pointing game. Everything lands in out/demo/; the page is out/demo/report/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cli() { node bin/webgpu-xai.js "$@"; }
W=weights/demo-resnet18-w16.pth
S=weights/demo-set
O=out/demo
# Chosen so that the whole demo, npm ci included, ends within 3 minutes on 2 CPU cores without a
# GPU (lavapipe): 112 px (the model's training size), 300 masks per RISE method, 28 steps per curve (step 448).
MASKS=300
STEP=448
STEPS=$(( (112 * 112 + STEP - 1) / STEP ))

cli predict --weights "$W" --input weights/demo.png --size 112 --labels weights/demo-labels.txt --out "$O/predict"
# report refuses a folder that holds anything: a rerun of the demo replaces the demo's own report.
rm -rf "$O/report"
cli report --weights "$W" --images "$S/images" --labels "$S/labels.csv" --gt-masks "$S/masks" \
  --class-names weights/demo-labels.txt --size 112 --masks "$MASKS" --step "$STEP" --out "$O/report" \
  --note "The bundled demo (npm run demo): 112 px, N = $MASKS RISE masks, step $STEP ($STEPS steps per curve), chosen so that the demo, npm ci included, ends within 3 minutes on 2 CPU cores without a GPU. The reference project used 224 px and N = 4000-6000."
echo "demo: the report is $O/report/index.html"
