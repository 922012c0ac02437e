"""Diagnostic (section 9): the opt-in mode's cost with one predictor per process, as a user runs it.
`base`: the shipped bundle as loaded by default; `opt`: Predictor.load(patches={"attractiveness":
"centre"}) with the shipped descriptor head. 60 SCUT-FBP5500 training-list images, 5 warm-up
calls, then 3 rounds; prints each round's per-image wall times (ms) as JSON. Run the two modes in
alternating processes and compare image by image (one_predictor.json).

    for k in 1 2 3 4; do for m in base opt; do
      PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/one_predictor.py $m > runs/map/one-$m-$k.json
    done; done
"""

import json
import sys
import time
from pathlib import Path

import torch

from lnet_anet.data.images import load_image
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500
from lnet_anet.inference.predictor import Predictor

torch.set_num_threads(2)
mode = sys.argv[1]
index = read_scut_fbp5500(Path("../shared/datasets/scut_fbp5500_train"))
paths = index[index["split"] == "train"]["path"].astype(str).tolist()[::55][:60]
images = [load_image(p) for p in paths]
if mode == "opt":
    from lnet_anet.dldl.descriptor import DescriptorHead
    p = Predictor.load(patches={"attractiveness": "centre"})
    p.descriptor_head = DescriptorHead.load()
else:
    p = Predictor.load()
for img in images[:5]:
    p.predict(img)
out = []
for _ in range(3):
    row = []
    for img in images:
        t0 = time.perf_counter()
        p.predict(img)
        row.append((time.perf_counter() - t0) * 1000)
    out.append(row)
print(json.dumps(out))
