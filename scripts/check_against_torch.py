#!/usr/bin/python3
"""Full-size check of `webgpu-xai predict` against PyTorch, on models the test suite has not seen:
torchvision resnet18/34/50 with random weights and calibrated BatchNorm, odd class counts, inputs
of several sizes. Needs Debian's python3-torch (run with /usr/bin/python3) and a built tree
(npm run build). Not part of `npm test`: it takes minutes and needs Python.

    /usr/bin/python3 scripts/check_against_torch.py [--archs resnet18,resnet50] [--sizes 64,96,224]

Prints, per model and size, max|ours - torch| / max|torch| of the logits (the issue's measure;
torch computed in float64) and whether it is within 1e-4; exits 1 if any is not.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
CLASSES = {'resnet18': 7, 'resnet34': 3, 'resnet50': 11, 'resnet101': 5, 'resnet152': 9}


def make_model(arch, classes, seed):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(num_classes=classes)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, 3, 96, 96))
    return model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--archs', default='resnet18,resnet34,resnet50')
    ap.add_argument('--sizes', default='64,96,224')
    ap.add_argument('--seed', type=int, default=int.from_bytes(os.urandom(2), 'little'))
    args = ap.parse_args()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for k, arch in enumerate(args.archs.split(',')):
            model = make_model(arch, CLASSES[arch], args.seed + k)
            weights = os.path.join(tmp, f'{arch}.pth')
            torch.save(model.state_dict(), weights)
            model.double()
            for size in map(int, args.sizes.split(',')):
                x = torch.randn(1, 3, size, size)
                inp = os.path.join(tmp, f'x{size}.npy')
                np.save(inp, x.numpy())
                with torch.no_grad():
                    ref = model(x.double()).numpy()
                out = os.path.join(tmp, 'out')
                run = subprocess.run([
                    'node', os.path.join(ROOT, 'bin', 'webgpu-xai.js'), 'predict', '--weights', weights,
                    '--input', inp, '--out', out], capture_output=True, text=True)
                if run.returncode != 0:
                    print(f'{arch} {size}px: predict failed: {run.stderr.strip().splitlines()[-1]}')
                    sys.exit(1)
                ours = np.load(os.path.join(out, 'logits.npy'))
                rel = float(np.abs(ours - ref).max() / np.abs(ref).max())
                worst = max(worst, rel)
                print(f'{arch:10s} {CLASSES[arch]:3d} classes {size:4d}px  rel err {rel:.2e}  {"ok" if rel <= 1e-4 else "FAIL"}', flush=True)
    print(f'worst {worst:.2e} (seed {args.seed})')
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == '__main__':
    main()
