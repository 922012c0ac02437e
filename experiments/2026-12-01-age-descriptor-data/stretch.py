"""Issue 15, the opt-in age head at the extremes: the mixed age pulls old faces young and children
old (tune part, map.py: 60+ bias -7.0, 0-12 +2.4 years; balanced sampling did not help, choose.json).
Does stretching the mixed age away from its centre, m' = c + k (m - c), undo the pull without
losing overall? Chosen on a tune part of UTKFace's train part (tune_part.py: fold 1 of 5, as
choose.py, map.py and std_scale.py); the val part is not read here.

    PYTHONPATH=. python experiments/2026-12-01-age-descriptor-data/stretch.py --cache runs/age-map/utk-train-9000-map.npz \
        --out experiments/2026-12-01-age-descriptor-data/stretch.json

The head as shipped (3 networks reading ANet's feature, dlib's last map and the descriptor), on map.py's
seeded 6,000 chips outside the tune part (std_scale.py's head: same data and seeds), mixed 0.5 with
the Predictor's age per tune chip. c: the median mixed age of the tune chips; k from 1.0 to 1.6.
Each k is scored cross-fitted (c fitted on one half of the tune chips, scored on the other, both
ways): MAE, the mean of the five bands' MAEs (balanced MAE) and each band's MAE and bias.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_part import BANDS, arguments, shipped_mix, tune_part  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--mixed", type=Path, default=Path("runs/age-map/tune-mixed.npz"),
                    help="the tune chips' mixed ages and true ages, made once and reused")  # fmt: skip
args = arguments(parser)
if not args.mixed.exists():
    part = tune_part(args.cache, args.root)
    _, _, rows, mixed = shipped_mix(part)
    args.mixed.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.mixed, mixed=mixed, y=part.y[rows], band=part.band[rows], bundle_std=part.bundle_std[rows])
z = np.load(args.mixed)
mixed, y, band = z["mixed"], z["y"], z["band"]


def figures(pred: np.ndarray) -> dict:
    e = pred - y
    out = {"mae": round(float(np.abs(e).mean()), 3)}
    maes = []
    for k, (lo, hi) in enumerate(BANDS):
        sel = band == k
        maes.append(float(np.abs(e[sel]).mean()))
        out[f"{lo}-{hi if hi < 200 else ''}"] = {"mae": round(maes[-1], 2), "bias": round(float(e[sel].mean()), 2)}
    out["balanced mae"] = round(float(np.mean(maes)), 3)
    return out


halves = np.random.default_rng(1).permutation(len(y)) % 2
record = {"tune chips": len(y), "centre (whole tune part)": round(float(np.median(mixed)), 2), "k": {}}
for k in np.round(np.arange(1.0, 1.61, 0.1), 2):
    pred = np.empty(len(y))
    for h in (0, 1):
        c = np.median(mixed[halves == h])
        pred[halves != h] = np.clip(c + k * (mixed[halves != h] - c), 0, 116)
    record["k"][str(k)] = figures(pred)
    print(k, record["k"][str(k)], flush=True)
record["command"] = f"python experiments/2026-12-01-age-descriptor-data/stretch.py --cache {args.cache} --out {args.out}"
args.out.write_text(json.dumps(record, indent=2) + "\n")
