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

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, read_wider_txt  # noqa: E402
from lnet_anet.inference.predictor import UPRIGHT_FACES, Predictor, _turn_back  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
parser.add_argument("--fit-lists", type=Path, default=Path("runs/upright"))
parser.add_argument("--n", type=int, default=200)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

used = set()
for f in args.fit_lists.glob("fit-*.txt"):
    used |= {line.strip() for line in f.read_text().splitlines() if line.strip()}
wider_root = args.datasets / "wider_face_train"
wider = read_wider_txt(next(iter(sorted((wider_root / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
wider = wider[hash_part(wider["name"]) == "tune"]
celeba = split_of(build_index(data_cfg("celeba_hq", args.datasets)), "train")
utk = split_of(build_index(data_cfg("utkface", args.datasets)), "train")
rng = np.random.default_rng(1)  # the same draw as choose_rule.py
sets = {}
for name, paths in (("wider-tune-unused", wider["path"]), ("celeba-train-unused", celeba["path"]),
                    ("utk-train-unused", utk["path"])):  # fmt: skip
    free = sorted(set(map(str, paths)) - used)
    sets[name] = [free[i] for i in sorted(rng.choice(len(free), min(args.n, len(free)), replace=False))]

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
