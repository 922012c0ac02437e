"""Portraits' cost of a zoom-in policy (RULE.md): the share of pictures read at the zoom-in scale and
the median localization time, per set, for each bundle.

    PYTHONPATH=. python experiments/2026-12-03-crowd-zoom/zoom_share.py --part tune --n 300 \\
        --bundle base=B1 k2=B2 --out experiments/2026-12-03-crowd-zoom/tune/zoom-share.json

Sets: the face-filter study's (collect.sets): WIDER photos and three single-face sets (UTKFace
chips, celeba_hq128 files, SCUT-FBP5500 images), the files the face head did not learn from, the
first --n of each. Each file: `Predictor.locate_many([path], batch_size=1)` (decode, LNet at every
scale, the localizer, the merge, the check map, the box head; no attribute heads), timed; a
picture is "zoomed" when LNet ran on it at a scale > 1. The bundles take turns file by file, so
the machine's load falls on each alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments" / "2026-12-03-face-filter"))
from collect import sets  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def counting(pred: Predictor) -> list[bool]:
    """Wrap pred._detect_at so that flag[0] turns True when a scale > 1 is read."""
    flag = [False]
    inner = pred._detect_at

    def detect_at(scale, *args, **kwargs):
        flag[0] |= scale > 1
        return inner(scale, *args, **kwargs)

    pred._detect_at = detect_at
    return flag


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("tune", "val"), default="tune")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--bundle", nargs="+", required=True, help="NAME=FILE ...")
    ap.add_argument("--work", type=Path, default=Path("runs/face-filter"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    data = sets(args.part, datasets_root(), args.work)
    preds = {}
    for spec in args.bundle:
        name, path = spec.split("=", 1)
        preds[name] = (Predictor.load(path), None)
        preds[name] = (preds[name][0], counting(preds[name][0]))
    out = {"command": " ".join(["python", *sys.argv]), "part": args.part, "n": args.n, "sets": {},
           "machine": {"processor": platform.machine(), "cpu_count": os.cpu_count(),
                       "threads": os.environ.get("OMP_NUM_THREADS")}}  # fmt: skip
    for pred, _ in preds.values():
        next(pred.locate_many([data["utkface"]["paths"][0]], batch_size=1))  # warm-up
    for set_name in ("utkface", "celeba_hq", "scut", "wider"):
        s = data[set_name]
        paths = [p for p, fitted in zip(s["paths"], s["fitted"], strict=True) if not fitted][: args.n]
        rows = {name: {"zoomed": 0, "ms": []} for name in preds}
        for path in paths:
            for name, (pred, flag) in preds.items():
                flag[0] = False
                t = time.perf_counter()
                next(pred.locate_many([path], batch_size=1))
                rows[name]["ms"].append((time.perf_counter() - t) * 1000)
                rows[name]["zoomed"] += flag[0]
        out["sets"][set_name] = {name: {"files": len(paths), "zoomed_share": round(r["zoomed"] / len(paths), 4),
                                        "median_ms": round(statistics.median(r["ms"]), 2),
                                        "mean_ms": round(statistics.fmean(r["ms"]), 2)}
                                 for name, r in rows.items()}  # fmt: skip
        print(set_name, out["sets"][set_name], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
