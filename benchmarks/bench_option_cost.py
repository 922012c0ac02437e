"""What a Predictor option costs: `Predictor.predict` with and without it, in one process, on the
same decoded images (decoding is the same in both arms and left out), blocks of --block images
alternating between the arms, --rounds rounds; a null arm (a second plain predictor) shows the
noise of the design.

    PYTHONPATH=. OMP_NUM_THREADS=2 python benchmarks/bench_option_cost.py --option box_jitter \
        --images ../shared/datasets/scut_fbp5500_train/SCUT-FBP5500_v2/Images --n 60 --out FILE.json

--option names a bool of Predictor.load (mirror, box_jitter). Writes FILE.json: ms per face of each
arm, the ms per face the option adds (and the null arm's, for the noise), the median per-block
difference, the images and faces timed. Records: experiments/2026-12-02-mirror-views,
experiments/2026-12-02-box-jitter.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from lnet_anet.data.images import load_image
from lnet_anet.inference.predictor import Predictor

OPTIONS = ("mirror", "box_jitter")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--option", choices=OPTIONS, required=True)
    ap.add_argument("--images", type=Path, required=True)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--block", type=int, default=10)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    files = sorted(p for p in args.images.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    files = [files[i] for i in np.random.default_rng(0).choice(len(files), min(args.n, len(files)), replace=False)]
    images = [np.asarray(load_image(f)) for f in files]
    option = args.option
    arms = {"plain": Predictor.load(), "null": Predictor.load(), option: Predictor.load(**{option: True})}
    faces = sum(len(arms["plain"].predict(im)["faces"]) for im in images)
    if faces == 0:
        raise SystemExit(f"bench_option_cost: no face found in the {len(images)} images of {args.images}: nothing to time")
    for p in arms.values():  # warm up
        p.predict(images[0])
    ms = {name: [] for name in arms}
    for _ in range(args.rounds):
        for start in range(0, len(images), args.block):
            block = images[start:start + args.block]
            for name, p in arms.items():
                t0 = time.perf_counter()
                for im in block:
                    p.predict(im)
                ms[name].append((time.perf_counter() - t0) * 1000)
    total = {name: sum(v) for name, v in ms.items()}
    per_face = {name: total[name] / (args.rounds * faces) for name in arms}
    diffs = {arm: [a - b for a, b in zip(ms[arm], ms["plain"], strict=True)] for arm in ("null", option)}
    result = {"images": str(args.images), "n": len(images), "faces": faces, "rounds": args.rounds, "block": args.block,
              "ms_per_face": {k: round(v, 2) for k, v in per_face.items()},
              "added_ms_per_face": {arm: round(per_face[arm] - per_face["plain"], 2) for arm in ("null", option)},
              "median_block_difference_ms_per_block": {arm: round(statistics.median(d), 2) for arm, d in diffs.items()},
              "machine": {"processor": platform.machine(), "threads": 2}}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
