"""Choosing how the upright head's votes are pooled over a turn's faces (tune part; diagnostic).

For each image, each quarter turn r of it (np.rot90's k) is read by the Predictor; its top --top
faces (LNet's score order) get the upright head's P(upright). A rule turns those into one score
per turn; the image is read upright when turn 0 scores highest (the turns of a file stored turned
are the same four images in another order, so this is the rule's accuracy at every stored turn).
Images: the WIDER FACE tune-part photos the head's fit did not use (the fit took 600 of them),
and celeba_hq128 / UTKFace train-part files it did not use.

    PYTHONPATH=. python experiments/2026-12-01-upright/choose_rule.py --head runs/upright/upright_head.safetensors \
        --n 200 --out experiments/2026-12-01-upright/choose_rule.json
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
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.inference.upright import UprightHead  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
parser.add_argument("--head", type=Path, required=True)
parser.add_argument("--fit-lists", type=Path, default=Path("runs/upright"))
parser.add_argument("--n", type=int, default=200)
parser.add_argument("--top", type=int, default=5)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

sets = unused_tune_images(args.datasets, args.fit_lists, args.n)

predictor = Predictor.load()
predictor.upright_head = UprightHead.load(args.head)
cache = {}
for name, paths in sets.items():
    rows = []
    for path in paths:
        img = load_image(Path(path))
        turned = [np.ascontiguousarray(np.rot90(img, r)) for r in range(4)]
        found = predictor._detect(turned, None)
        faces = [(turned[r], box, score, {}) for r in range(4) for box, score in found[r][: args.top]]
        p = predictor.upright_head.probability(predictor._mean_features(faces)).tolist() if faces else []
        per_turn, at = [], 0
        for r in range(4):
            m = len(found[r][: args.top])
            per_turn.append([(float(s), p[at + j]) for j, (_, s) in enumerate(found[r][: args.top])])
            at += m
        rows.append(per_turn)
    cache[name] = rows
    print(name, len(rows), flush=True)


def logit(p):
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def mean_top(m):
    return lambda faces: float(np.mean([p for _, p in faces[:m]])) if faces else -1.0


def log_odds_top(m):
    return lambda faces: sum(logit(p) for _, p in faces[:m]) if faces else -1e9


rules = {
    "best face": lambda faces: faces[0][1] if faces else -1.0,
    **{f"mean of top {m}": mean_top(m) for m in (2, 3, 5)},
    **{f"sum of log-odds, top {m}": log_odds_top(m) for m in (3, 5)},
    "best LNet score (the old rule)": lambda faces: faces[0][0] if faces else -1e9,
}
record = {"top": args.top, "images": {k: len(v) for k, v in cache.items()}, "read_upright": {}}
for name, rows in cache.items():
    record["read_upright"][name] = {}
    for rule, f in rules.items():
        right = []
        for per_turn in rows:
            s = [f(faces) for faces in per_turn]
            right.append(max(range(4), key=lambda r: (s[r], r == 0)) == 0)
        record["read_upright"][name][rule] = round(float(np.mean(right)), 4)
args.out.write_text(json.dumps(record, indent=2))
print(json.dumps(record, indent=2))
