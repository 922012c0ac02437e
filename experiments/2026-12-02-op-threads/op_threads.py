"""What running the Predictor's own torch and BLAS ops on one thread (Predictor.op_threads = 1,
the default on ONNX Runtime) saves per `predict` call, against leaving their counts (None: 2 on
this machine),
paired image by image in one process; and a null arm (1 against 1) that shows the design's own
spread. Each image goes through every arm in turn, the order rotating from image to image
(--block 1), or each arm takes `--block` images in a row before the next arm takes the same
ones (idle torch and OpenBLAS threads spin on into the next call, so image-by-image pairing
mixes the arms). Wall time per image, and the process's CPU time per image.

    PYTHONPATH=. python experiments/2026-12-02-op-threads/op_threads.py --images 60 --rounds 5 \
        --out experiments/2026-12-02-op-threads/scut.json
    PYTHONPATH=. python experiments/2026-12-02-op-threads/op_threads.py --set wider --images 60 --rounds 5 \
        --out experiments/2026-12-02-op-threads/wider.json
    PYTHONPATH=. python experiments/2026-12-02-op-threads/op_threads.py --images 60 --rounds 5 --descriptor \
        --out experiments/2026-12-02-op-threads/scut-descriptor.json

--set scut: SCUT-FBP5500 training-list images (224 px, one face); wider: WIDER FACE train photos
(several faces, about 1024 px wide). --descriptor: the predictor of `predict
--attractiveness-descriptor` (the bundle head on its centre patch + the shipped descriptor head).
Figures: per arm the median wall ms per image; per comparison the median of the per-image
differences with a 95% bootstrap interval (2,000 resamples of images).
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from lnet_anet.data.images import load_image
from lnet_anet.inference.predictor import Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--set", choices=("scut", "wider"), default="scut")
parser.add_argument("--images", type=int, default=60)
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--block", type=int, default=1,
                    help="images each arm runs in a row before the next arm takes them (1: image by image)")
parser.add_argument("--descriptor", action="store_true")
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

root = Path("../shared/datasets")
paths = sorted((root / "scut_fbp5500_train").rglob("*.jpg") if args.set == "scut"
               else (root / "wider_face_train").rglob("*.jpg"))  # fmt: skip
paths = paths[:: max(1, len(paths) // args.images)][: args.images]
images = [load_image(p) for p in paths]
if args.descriptor:
    from lnet_anet.dldl.descriptor import DescriptorHead

    predictor = Predictor.load(patches={"attractiveness": "centre"})
    predictor.descriptor_head = DescriptorHead.load()
else:
    predictor = Predictor.load()
arms = {"their counts (None)": None, "one thread (shipped)": 1, "one thread, again (null)": 1}
for image in images[:3]:
    predictor.predict(image)
wall = {name: np.zeros((args.rounds, len(images))) for name in arms}
cpu = {name: np.zeros((args.rounds, len(images))) for name in arms}
names = list(arms)
for r in range(args.rounds):
    for b, start in enumerate(range(0, len(images), args.block)):
        shift = (b + r) % len(names)
        for name in names[shift:] + names[:shift]:
            predictor.op_threads = arms[name]
            for i in range(start, min(start + args.block, len(images))):
                t0, c0 = time.perf_counter(), time.process_time()
                predictor.predict(images[i])
                wall[name][r, i] = 1000 * (time.perf_counter() - t0)
                cpu[name][r, i] = 1000 * (time.process_time() - c0)


def paired(a: str, b: str, times: dict = wall) -> dict:
    """Median over images of (a - b), each image's difference the median over rounds."""
    d = np.median(times[a] - times[b], axis=0)
    rng = np.random.default_rng(0)
    boot = [np.median(rng.choice(d, len(d))) for _ in range(2000)]
    return {"median_ms": round(float(np.median(d)), 2), "ci95_ms": [round(float(np.percentile(boot, q)), 2) for q in (2.5, 97.5)]}


out = {"command": "python experiments/2026-12-02-op-threads/op_threads.py "
                  + " ".join(f"--{k}" if v is True else f"--{k} {v}" for k, v in vars(args).items() if v not in (False, None)),
       "images": len(images), "rounds": args.rounds, "set": args.set, "descriptor": args.descriptor,
       "wall_ms_per_image": {n: round(float(np.median(w)), 2) for n, w in wall.items()},
       "one thread minus their counts": paired("one thread (shipped)", "their counts (None)"),
       "null: one thread minus one thread": paired("one thread (shipped)", "one thread, again (null)"),
       "cpu_ms_per_image": {n: round(float(np.median(c)), 2) for n, c in cpu.items()},
       "cpu: one thread minus their counts": paired("one thread (shipped)", "their counts (None)", cpu),
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": list(os.getloadavg())}}  # fmt: skip
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps(out, indent=2))
print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=1))
