"""Diagnostic (tune images only): does comparing the SAME face regions at the four quarter turns
read photos upright better than comparing each turn's own faces (the shipped rule)?

For a file stored at turn t (the upright image turned by t quarter turns; np.rot90's k), the
Predictor finds the top 3 faces of the file as stored; each face's crop (its region, as the heads
crop it) is turned by j = 0..3 quarter turns and read by the upright head. Rule "same regions":
the j of highest mean P(upright); the file is read upright when j undoes t. Rule "each turn's
faces" (shipped): the 4 turns of the photo are each searched for faces (choose_rule.py, mean of
the top 3). Images: choose_rule.py's (not used by the fit).

    PYTHONPATH=. python experiments/2026-12-01-upright/same_region.py --n 200 --out experiments/2026-12-01-upright/same_region.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lists import unused_tune_images  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.inference.predictor import UPRIGHT_FACES, Predictor, _turn_back  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
parser.add_argument("--fit-lists", type=Path, default=Path("runs/upright"))
parser.add_argument("--n", type=int, default=200)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

sets = unused_tune_images(args.datasets, args.fit_lists, args.n)

predictor = Predictor.load()
record = {"images": {}, "read_upright": {}}
for name, paths in sets.items():
    right = []
    for path in paths:
        upright = load_image(Path(path))
        for t in range(4):
            stored = np.ascontiguousarray(np.rot90(upright, t))
            faces = predictor._detect([stored], None)[0][:UPRIGHT_FACES]
            if not faces:
                right.append(t == 0)
                continue
            crops, hw = [], stored.shape[:2]
            for j in range(4):  # the stored file turned by j: each region turned with it
                turned = np.ascontiguousarray(np.rot90(stored, j))
                for box, score in faces:
                    inv = _turn_back(box, (4 - j) % 4, turned.shape[:2])  # stored pixels -> turned pixels
                    crops.append((turned, inv, score, {}))
            p = predictor.upright_head.probability(predictor._mean_features(crops)).reshape(4, len(faces)).mean(1)
            j = max(range(4), key=lambda j: (p[j], j == 0))
            right.append((t + j) % 4 == 0)
    record["images"][name] = len(paths)
    record["read_upright"][name] = round(float(np.mean(right)), 4)
    print(name, record["read_upright"][name], flush=True)
args.out.write_text(json.dumps(record, indent=2))
