"""Portraits under a scale policy (RULE.md round 2, L4b): faces per file and the top face's place,
two bundles on the same files, end to end through `Predictor.predict_many` on the files.

    PYTHONPATH=. python experiments/2026-12-06-small-lone-face-zoom/portraits.py --part tune \
        --bundle shipped=lnet_anet/assets/default.lnetanet candidate=B --out experiments/.../portraits-tune.json

Files: the first --n of each list of experiments/2026-12-01-upright/lists.py (runs/upright): tune, the
train-part lists fit-utkface-train and fit-celeba_hq128-train; val, score-utkface-val and
score-celeba_hq128-val. Per bundle: mean faces per file, share of files with more than one face;
per candidate: share of files whose top face box moved (IoU < 0.5 with the first bundle's, or found
by one only), and localization ms per file (predict_many, batch 4, not paired).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

from lnet_anet.engine.runs import machine
from lnet_anet.inference.predictor import Predictor

LISTS = {"tune": ("fit-utkface-train", "fit-celeba_hq128-train"), "val": ("score-utkface-val", "score-celeba_hq128-val")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=tuple(LISTS), required=True)
    ap.add_argument("--lists", type=Path, default=Path("runs/upright"))
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--bundle", nargs="+", required=True, metavar="NAME=FILE")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    bundles = dict(b.split("=", 1) for b in args.bundle)
    out = {"command": "python experiments/2026-12-06-small-lone-face-zoom/portraits.py " + " ".join(sys.argv[1:]),
           "machine": machine(), "sets": {}}  # fmt: skip
    for name in LISTS[args.part]:
        paths = [p for p in (args.lists / f"{name}.txt").read_text().split() if p][: args.n]
        tops, table = {}, {}
        for label, path in bundles.items():
            predictor = Predictor.load(path, backend="torch")
            t0 = time.perf_counter()
            records = list(predictor.predict_many(paths, batch_size=4))
            ms = 1000 * (time.perf_counter() - t0) / len(paths)
            counts = np.array([len(r.get("faces", [])) for r in records])
            tops[label] = [r["faces"][0]["box"] if r.get("faces") else None for r in records]
            table[label] = {"files": len(paths), "faces_per_file": round(float(counts.mean()), 4),
                            "more_than_one_face": round(float((counts > 1).mean()), 4), "ms_per_file": round(ms, 1)}  # fmt: skip
        first = next(iter(bundles))
        for label in list(bundles)[1:]:
            moved = 0
            for a, b in zip(tops[first], tops[label], strict=True):
                if (a is None) != (b is None):
                    moved += 1
                elif a is not None and float(box_iou(torch.tensor([a]), torch.tensor([b]))[0, 0]) < 0.5:
                    moved += 1
            table[label]["top_face_moved"] = round(moved / len(paths), 4)
        out["sets"][name] = table
        print(name, json.dumps(table), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
