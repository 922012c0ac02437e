"""What the rescue costs per image, paired: the bundle before and the rescuing one alternate on
the same files (each file predicted by both, the order flipped every file), one process, torch
and ONNX Runtime as shipped. Face-free crops (every one is read again) and WIDER photos.

    python experiments/2026-12-02-face-verifier/cost.py --before B --rescue R --images DIR [--n 80] --out F
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from lnet_anet.inference.predictor import Predictor


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--rescue", type=Path, required=True)
    ap.add_argument("--images", type=Path, required=True)
    ap.add_argument("--n", type=int, default=80)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    files = sorted(p for p in args.images.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    files = [files[i] for i in np.random.default_rng(0).choice(len(files), min(args.n, len(files)), replace=False)]
    arms = {"before": Predictor.load(args.before), "rescue": Predictor.load(args.rescue)}
    for p in arms.values():
        p.predict(str(files[0]))  # warm-up
    ms: dict[str, list[float]] = {k: [] for k in arms}
    rescued = 0
    for i, f in enumerate(files):
        for name in (("before", "rescue") if i % 2 == 0 else ("rescue", "before")):
            t = time.perf_counter()
            record = arms[name].predict(str(f))
            ms[name].append((time.perf_counter() - t) * 1000)
            rescued += bool(name == "rescue" and record.get("rescued"))
    diff = np.array(ms["rescue"]) - np.array(ms["before"])
    out = {"images": str(args.images), "n": len(files), "median_ms": {k: statistics.median(v) for k, v in ms.items()},
           "median_paired_diff_ms": float(np.median(diff)), "mean_paired_diff_ms": float(diff.mean()),
           "rescued": rescued}
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
