"""PyTorch CPU peer for the methods in bench/peers.ts: the same work as ours, written plainly in
PyTorch (as pytorch-grad-cam / the RISE authors' code / Quantus-style loops do it), timed end to end.

  RISE: N binary masks (grid 7, p1 0.5, bilinear upsampling of a (s+1)·cell grid, random shift crop),
        scored in batches of 32 (softmax), saliency = Σ score·mask / (N·p1).
  Abs-CAM Final (layer4): one forward + backward for the top class; per channel the activation map
        upsampled (bilinear), min-max normalised, multiplied into the image, scored in batches of 32.
  Insertion + deletion: pixels ranked by a saliency map, `step` pixels per step from a blurred image
        (Gaussian, kernel 11, sigma 5) or to zeros, every step image scored in batches of 32.

Prints one JSON line. Usage: python3 torch_methods.py SIZE MASKS CAUSAL_SIZE STEP [DEVICE]
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

size, n_masks, csize, step = (int(a) for a in sys.argv[1:5])
device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
torch.set_num_threads(os.cpu_count() or 1)
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=4).eval().to(device)
BATCH = 32


def sync():
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn):
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return (time.perf_counter() - t0) * 1000


def scores(batch, cls):
    with torch.no_grad():
        return F.softmax(model(batch), dim=1)[:, cls]


def rise(image):
    s, p1 = 7, 0.5
    cell = math.ceil(size / s)
    up = (s + 1) * cell
    cls = scores(image, slice(None)).argmax().item()
    sal = torch.zeros(size, size, device=device)
    for first in range(0, n_masks, BATCH):
        b = min(BATCH, n_masks - first)
        grid = (torch.rand(b, 1, s, s, device=device) < p1).float()
        big = F.interpolate(grid, size=(up, up), mode="bilinear", align_corners=False)
        dx, dy = torch.randint(0, cell, (2, b))
        masks = torch.stack([big[i, 0, dy[i]:dy[i] + size, dx[i]:dx[i] + size] for i in range(b)])
        sc = scores(image * masks[:, None], cls)
        sal += (sc[:, None, None] * masks).sum(0)
    return sal / (n_masks * p1)


def abscam_final(image):
    acts = {}
    handle = model.layer4.register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    x = image.clone().requires_grad_(False)
    logits = model(x)
    handle.remove()
    a = acts["a"]
    cls = logits.argmax().item()
    grad, = torch.autograd.grad(logits[0, cls], a)
    w = grad.abs().mean(dim=(2, 3))[0]
    maps = F.interpolate(a.detach(), size=(size, size), mode="bilinear", align_corners=False)[0]
    lo = maps.flatten(1).min(1).values[:, None, None]
    hi = maps.flatten(1).max(1).values[:, None, None]
    maps = (maps - lo) / torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    channel_scores = torch.cat([scores(image * maps[k:k + BATCH, None], cls) for k in range(0, maps.shape[0], BATCH)])
    return F.relu((channel_scores[:, None, None] * w[:, None, None] * maps).sum(0))


def causal(image, saliency):
    cls = scores(image, slice(None)).argmax().item()
    k = torch.arange(11, device=device, dtype=torch.float32) - 5
    g = torch.exp(-k * k / (2 * 25.0))
    g = (g / g.sum())
    kernel = (g[:, None] * g[None, :]).expand(3, 1, 11, 11)
    blurred = F.conv2d(F.pad(image, (5, 5, 5, 5), mode="reflect"), kernel, groups=3)
    order = saliency.flatten().argsort(descending=True)
    pixels = csize * csize
    n_steps = math.ceil(pixels / step) + 1
    aucs = []
    for start, finish in ((blurred, image), (image, torch.zeros_like(image))):
        curve = []
        for first in range(0, n_steps, BATCH):
            batch = []
            for i in range(first, min(first + BATCH, n_steps)):
                keep = torch.zeros(pixels, device=device)
                keep[order[:min(i * step, pixels)]] = 1
                keep = keep.view(1, 1, csize, csize)
                batch.append(start * (1 - keep) + finish * keep)
            curve.append(scores(torch.cat(batch), cls))
        c = torch.cat(curve)
        aucs.append(((c[1:] + c[:-1]) / 2).mean().item())
    return aucs


image = torch.sin(torch.arange(3 * size * size, device=device, dtype=torch.float32) * 0.013).view(1, 3, size, size)
small = torch.sin(torch.arange(3 * csize * csize, device=device, dtype=torch.float32) * 0.013).view(1, 3, csize, csize)
sal_small = torch.sin(torch.arange(csize * csize, device=device, dtype=torch.float32) * 0.37).view(csize, csize)
model(small)  # warm-up
results = {
    "rise": timed(lambda: rise(image)),
    "abscam-final": timed(lambda: abscam_final(image)),
    "insertion+deletion": timed(lambda: causal(small, sal_small)),
}
name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": name, "ms": results}))
