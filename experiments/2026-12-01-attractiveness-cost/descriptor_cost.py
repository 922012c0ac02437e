"""What the opt-in descriptor head adds to a `Predictor.predict` call, paired image by image in one
predictor (issue 17): each image is predicted with no descriptor head, with the head as shipped
before this change (its MLP through torch, dlib's network on 2 ONNX Runtime threads) and as now
(the MLP in numpy, the network on 1 thread), the order rotating from image to image, so the three
share the predictor's caches and the host's drift. The same bundle head runs in all three; its own
cost is pipeline_cost.py's.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/descriptor_cost.py --images 60 --rounds 5 \
        --out experiments/2026-12-01-attractiveness-cost/descriptor_cost.json

Per variant: the median over images and rounds of (its time - the no-head time on the same image
in the same round), wall and process CPU, and the descriptor's parts timed inside the calls.
"""

import argparse
import collections
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from lnet_anet.data.images import load_image
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
from lnet_anet.dldl.descriptor import DescriptorHead, FaceDescriptor
from lnet_anet.inference.predictor import Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--images", type=int, default=60)
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)


class TorchMLPHead(DescriptorHead):
    """The head as it ran before: its MLP through torch (each network's, averaged, since the head
    holds several: section 7)."""

    @torch.no_grad()
    def regress(self, descriptors):
        x = torch.as_tensor(np.asarray(descriptors, np.float32))
        return np.mean([net.predict(x)["mean"].double().numpy() for net in self.nets], axis=0)


index = read_scut_fbp5500(args.root)
paths = index[index["split"] == "train"]["path"].astype(str).tolist()
paths = paths[:: max(1, len(paths) // args.images)][: args.images]
images = [load_image(p) for p in paths]
predictor = Predictor.load()
heads = {"no descriptor head": None,
         "before: torch MLP, network on 2 threads": TorchMLPHead.load(describe=FaceDescriptor(threads=2)),
         "now: numpy MLP, network on 1 thread": DescriptorHead.load()}  # fmt: skip
parts = collections.defaultdict(lambda: collections.defaultdict(list))
for name, head in heads.items():
    if head is None:
        continue
    head.describe(images[0], [[40, 40, 180, 180]])  # the network built before timing
    describer = head.describer

    def timed(obj, attr, label, name=name):
        f = getattr(obj, attr)

        def run(*a, **k):
            t0 = time.perf_counter()
            out = f(*a, **k)
            parts[name][label].append(1000 * (time.perf_counter() - t0))
            return out

        setattr(obj, attr, run)

    timed(describer, "chip", "landmarks and aligned chip")
    timed(describer, "_net", "network (int8)")
    timed(head, "mix", "head and mix")
    predictor.descriptor_head = head
    for image in images[:3]:  # warm up
        predictor.predict(image)
predictor.descriptor_head = None
for image in images[:3]:
    predictor.predict(image)
for per in parts.values():
    per.clear()

names = list(heads)
wall, cpu = collections.defaultdict(list), collections.defaultdict(list)  # name -> per (round, image) times
for r in range(args.rounds):
    for i, image in enumerate(images):
        shift = (i + r) % len(names)
        for name in names[shift:] + names[:shift]:
            predictor.descriptor_head = heads[name]
            t0, c0 = time.perf_counter(), time.process_time()
            predictor.predict(image)
            wall[name].append(1000 * (time.perf_counter() - t0))
            cpu[name].append(1000 * (time.process_time() - c0))
base = names[0]
result = {}
for name in names:
    w, c = np.array(wall[name]), np.array(cpu[name])
    result[name] = {"wall_ms_median": round(float(np.median(w)), 2), "cpu_ms_median": round(float(np.median(c)), 2)}
    if name != base:
        dw, dc = w - np.array(wall[base]), c - np.array(cpu[base])
        result[name] |= {"adds_wall_ms_median": round(float(np.median(dw)), 2),
                         "adds_wall_ms_iqr": [round(float(q), 2) for q in np.percentile(dw, [25, 75])],
                         "adds_cpu_ms_median": round(float(np.median(dc)), 2),
                         "parts_inside_predict_ms": {k: round(float(np.median(v)), 3) for k, v in parts[name].items()}}
out = {"command": "python experiments/2026-12-01-attractiveness-cost/descriptor_cost.py "
                  + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k != "root"),
       "images": len(images), "rounds": args.rounds, "per_image": result,
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": 2,
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": [round(v, 2) for v in os.getloadavg()]}}
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps(out, indent=2))
print(json.dumps(out, indent=2))
