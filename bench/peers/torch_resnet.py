"""PyTorch CPU peer for bench/peers.ts: torchvision's ResNet-18 forward, fp32, eval, no_grad.

Prints one JSON line: {"torch": version, "threads": n, "results": [{"batch": b, "ms": mean ms}]}.
Usage: python3 torch_resnet.py SIZE BATCHES ITERATIONS [DEVICE]   (DEVICE: cpu or cuda)
"""
import json
import os
import sys
import time

import torch
import torchvision

size, batches, iterations = int(sys.argv[1]), [int(b) for b in sys.argv[2].split(",")], int(sys.argv[3])
device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
torch.set_num_threads(os.cpu_count() or 1)
model = torchvision.models.resnet18(num_classes=1000).eval().to(device)
results = []
with torch.no_grad():
    for b in batches:
        x = torch.randn(b, 3, size, size, device=device)
        model(x)  # warm-up
        times = []
        for _ in range(iterations):
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            model(x).cpu()
            times.append((time.perf_counter() - t0) * 1000)
        results.append({"batch": b, "ms": sum(times) / len(times)})
name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": name, "results": results}))
