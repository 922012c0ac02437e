"""The descriptor head's work on a worker thread while the face graph runs (issue 17), paired image
by image in one predictor against the same work done in the calling thread (as before this
change): identical records, and what each adds to a `Predictor.predict` call over no descriptor
head (the rotating order of descriptor_cost.py; 60 SCUT training-list images, decoded once).

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/overlap.py --images 60 --rounds 5 \
        --out experiments/2026-12-01-attractiveness-cost/overlap.json
"""

import argparse
import collections
import json
import os
import platform
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import torch

from lnet_anet.data.images import load_image
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
from lnet_anet.dldl.descriptor import DescriptorHead
from lnet_anet.inference.predictor import Predictor, _settings_key

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--images", type=int, default=60)
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)


class Switchable(Predictor):
    """overlap False: the descriptors computed in the calling thread, as before."""

    overlap = True

    def _start_descriptors(self, faces):
        if self.overlap:
            return super()._start_descriptors(faces)
        done = {}
        for head in self._descriptor_heads.values():
            if _settings_key(head) not in done:
                done[_settings_key(head)] = job = Future()
                job.set_result(self._descriptors(faces, head))
        return done


index = read_scut_fbp5500(args.root)
paths = index[index["split"] == "train"]["path"].astype(str).tolist()
images = [load_image(p) for p in paths[:: max(1, len(paths) // args.images)][: args.images]]
predictor, head = Switchable.load(), DescriptorHead.load()
variants = {"no descriptor head": (None, True), "descriptor head, in the calling thread (before)": (head, False),
            "descriptor head, on a worker thread beside the face graph (now)": (head, True)}  # fmt: skip


def use(name):
    predictor.descriptor_head, predictor.overlap = variants[name]


same = []
for name in variants:  # warm up
    use(name)
    for image in images[:3]:
        predictor.predict(image)
for image in images:
    records = []
    for name in list(variants)[1:]:
        use(name)
        records.append(predictor.predict(image))
    same.append(records[0] == records[1])
names, wall, cpu = list(variants), collections.defaultdict(list), collections.defaultdict(list)
for r in range(args.rounds):
    for i, image in enumerate(images):
        shift = (i + r) % len(names)
        for name in names[shift:] + names[:shift]:
            use(name)
            t0, c0 = time.perf_counter(), time.process_time()
            predictor.predict(image)
            wall[name].append(1000 * (time.perf_counter() - t0))
            cpu[name].append(1000 * (time.process_time() - c0))
result = {}
for name in names:
    w, c = np.array(wall[name]), np.array(cpu[name])
    result[name] = {"wall_ms_median": round(float(np.median(w)), 2), "cpu_ms_median": round(float(np.median(c)), 2)}
    if name != names[0]:
        dw, dc = w - np.array(wall[names[0]]), c - np.array(cpu[names[0]])
        result[name] |= {"adds_wall_ms_median": round(float(np.median(dw)), 2),
                         "adds_wall_ms_iqr": [round(float(q), 2) for q in np.percentile(dw, [25, 75])],
                         "adds_cpu_ms_median": round(float(np.median(dc)), 2)}  # fmt: skip
out = {"command": "python experiments/2026-12-01-attractiveness-cost/overlap.py "
                  + " ".join(f"--{k} {v}" for k, v in vars(args).items() if k != "root"),
       "identical_records": f"{sum(same)} of {len(same)} images", "images": len(images), "rounds": args.rounds,
       "per_image": result,
       "machine": {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": 2,
                   "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                   "load_average": [round(v, 2) for v in os.getloadavg()]}}  # fmt: skip
args.out.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
