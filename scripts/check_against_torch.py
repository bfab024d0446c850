#!/usr/bin/python3
"""Full-size check of `webgpu-xai predict` against PyTorch, on models the test suite has not seen:
torchvision resnet18/34/50 with random weights and calibrated BatchNorm, odd class counts, inputs
of several sizes. Needs Debian's python3-torch (run with /usr/bin/python3) and a built tree
(npm run build). Not part of `npm test`: it takes minutes and needs Python.

    /usr/bin/python3 scripts/check_against_torch.py [--archs resnet18,resnet50] [--sizes 64,96,224]
    /usr/bin/python3 scripts/check_against_torch.py --cams abscam-init,abscam-final --layers layer4,layer3
    /usr/bin/python3 scripts/check_against_torch.py --rise --sizes 64      (RISE with our exported masks)
    /usr/bin/python3 scripts/check_against_torch.py --causal --sizes 96    (insertion/deletion, step 97)

Prints, per model and size, max|ours - torch| / max|torch| of the logits (torch in float64) and
whether it is within 1e-4; with --cams, the same measure for each CAM method's saliency map at
each layer (bound 1e-3; the formulas of scripts/fixtures/cam_fixtures.py); with --rise, RISE
saliency (binary and Gaussian masks exported by `webgpu-xai masks`, logits and softmax) against
the original project's formula; with --causal, insertion and deletion curves against the RISE authors'
protocol (every point, bound 1e-3). Exits 1 if any fails.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures'))
from cam_fixtures import cams  # noqa: E402
from causal_fixtures import curve  # noqa: E402

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
    ap.add_argument('--cams', default='', help='comma-separated explain methods to check instead of predict')
    ap.add_argument('--layers', default='layer4,layer3')
    ap.add_argument('--rise', action='store_true')
    ap.add_argument('--causal', action='store_true')
    ap.add_argument('--masks', type=int, default=96)
    args = ap.parse_args()
    if args.cams:
        check_cams(args)
    elif args.rise:
        check_rise(args)
    elif args.causal:
        check_causal(args)
    else:
        check_predict(args)


def check_predict(args):
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch, model, weights, size, x, inp in model_inputs(args, tmp):
            with torch.no_grad():
                ref = model(x.double()).numpy()
            out = os.path.join(tmp, 'out')
            run_cli(['predict', '--weights', weights, '--input', inp, '--out', out])
            ours = np.load(os.path.join(out, 'logits.npy'))
            rel = float(np.abs(ours - ref).max() / np.abs(ref).max())
            errors.append(rel)
            print(f'{arch:10s} {CLASSES[arch]:3d} classes {size:4d}px  rel err {rel:.2e}  {"ok" if rel <= 1e-4 else "FAIL"}', flush=True)
    report(args, errors, 1e-4)


def saved_models(args, tmp):
    """(arch, the model in float64, the path of its float32 state_dict) for each of --archs."""
    for k, arch in enumerate(args.archs.split(',')):
        model = make_model(arch, CLASSES[arch], args.seed + k)
        weights = os.path.join(tmp, f'{arch}.pth')
        torch.save(model.state_dict(), weights)
        yield arch, model.double(), weights


def model_inputs(args, tmp, extra_width=0):
    """(arch, model, weights, size, x, x's .npy path) for each of --archs and --sizes: x is a random
    [1, 3, size, size + extra_width] input."""
    for arch, model, weights in saved_models(args, tmp):
        for size in map(int, args.sizes.split(',')):
            x = torch.randn(1, 3, size, size + extra_width)
            inp = os.path.join(tmp, 'x.npy')
            np.save(inp, x.numpy())
            yield arch, model, weights, size, x, inp


def report(args, errors, bound):
    """Prints the worst error and exits 1 if it is over `bound`."""
    worst = max(errors)
    print(f'worst {worst:.2e} (seed {args.seed})')
    sys.exit(0 if worst <= bound else 1)


def check_rise(args):
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch, model, weights, size, x, inp in model_inputs(args, tmp):
            for method, mode in [('rise', 'binary'), ('rise-gauss', 'gaussian')]:
                run_cli(['masks', '--n', str(args.masks), '--size', str(size), '--mode', mode, '--seed', str(args.seed), '--out', tmp])
                masks = torch.from_numpy(np.load(os.path.join(tmp, 'masks.npy'))).double()
                with torch.no_grad():
                    logits = torch.cat([model(masks[i:i + 16] * x.double()) for i in range(0, len(masks), 16)])
                for scores_name, p in [('logits', logits), ('softmax', torch.softmax(logits, 1))]:
                    ref = (p.T @ masks.reshape(len(masks), -1)).reshape(-1, size, size) / len(masks)
                    ref = (ref / 0.5 if mode == 'binary' else ref / masks.mean()).numpy()
                    out = os.path.join(tmp, 'out')
                    run_cli(['explain', '--method', method, '--weights', weights, '--input', inp, '--masks-file', os.path.join(tmp, 'masks.npy'), '--scores', scores_name, '--out', out])
                    ours = np.load(os.path.join(out, 'saliency.npy'))
                    rel = float(np.abs(ours - ref).max() / np.abs(ref).max())
                    errors.append(rel)
                    print(f'{arch:10s} {size}px {method:10s} {scores_name:8s} ({args.masks} masks) rel err {rel:.2e}  {"ok" if rel <= 1e-3 else "FAIL"}', flush=True)
    report(args, errors, 1e-3)


def check_causal(args):
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch, model, weights, size, x, inp in model_inputs(args, tmp):
            sal = np.random.default_rng(args.seed).random((size, size)).astype(np.float32)
            sal_path = os.path.join(tmp, 'sal.npy')
            np.save(sal_path, sal)
            step = size + 1
            out = os.path.join(tmp, 'out')
            run_cli(['evaluate', '--metric', 'both', '--weights', weights, '--input', inp, '--saliency', sal_path, '--step', str(step), '--out', out])
            for metric in ['insertion', 'deletion']:
                _, scores, auc = curve(model, x.double(), sal.astype(np.float64), metric, step)
                with open(os.path.join(out, f'curve-{metric}.json')) as f:
                    ours = json.load(f)
                err = float(np.abs(np.array(ours['scores']) - scores).max())
                errors.append(err)
                print(f'{arch:10s} {size}px step {step} {metric:9s} max |Δscore| {err:.2e}  AUC {ours["auc"]:.4f} vs {auc:.4f}  {"ok" if err <= 1e-3 else "FAIL"}', flush=True)
    report(args, errors, 1e-3)


def run_cli(args):
    run = subprocess.run(['node', os.path.join(ROOT, 'bin', 'webgpu-xai.js'), *args], capture_output=True, text=True)
    if run.returncode != 0:
        print(f'webgpu-xai {args[0]} failed: {run.stderr.strip().splitlines()[-1]}')
        sys.exit(1)


def check_cams(args):
    errors = []
    methods = args.cams.split(',')
    with tempfile.TemporaryDirectory() as tmp:
        for arch, model, weights, size, x, inp in model_inputs(args, tmp, extra_width=16):  # not square
            for layer in args.layers.split(','):
                with torch.enable_grad():
                    ref, classes = cams(model, x.double(), layer, None)
                for method in methods:
                    out = os.path.join(tmp, 'out')
                    run_cli(['explain', '--method', method, '--weights', weights, '--input', inp, '--layer', layer, '--out', out])
                    ours = np.load(os.path.join(out, 'saliency.npy'))
                    r = ref[method][0].numpy()
                    # A map that is 0 everywhere (Grad-CAM's ReLU can kill all of it) is compared absolutely.
                    rel = float(np.abs(ours - r).max() / max(np.abs(r).max(), 1.0 if not r.any() else 0.0))
                    errors.append(rel)
                    print(f'{arch:10s} {size}x{size + 16}px {layer:7s} {method:13s} class {classes[0]}  rel err {rel:.2e}  {"ok" if rel <= 1e-3 else "FAIL"}', flush=True)
    report(args, errors, 1e-3)


if __name__ == '__main__':
    main()
