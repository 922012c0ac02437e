"""Timing of the code in the working tree it runs from (run.sh runs it in the tree before and after).

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-05-localize-speed/timing.py --out FILE.json

The embedded bundle on ONNX Runtime, 2 threads, batch 1, nothing else running. Photos: those of
benchmarks/bench_localize_speed.py (the 300x300 astronaut, a 640x480 scene with 5 WIDER faces
pasted on a blurred WIDER photo, a 640x480 4 x 3 grid of those faces), each timed
`--calls` times through `Predictor.locate_many` (localization) and `Predictor.predict` (every
head); medians in ms. Then `predict_many` over `--folder` WIDER FACE photos as files (every 7th
in sorted order; decode included), the best of `--rounds` passes, in photos per second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--folder", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    argv, sys.argv = sys.argv, sys.argv[:1]  # bench_speed parses its own arguments on import
    sys.path.insert(0, str(Path("benchmarks").resolve()))
    import bench_speed as bs
    import torch
    from skimage import data

    from lnet_anet.inference.predictor import Predictor

    sys.argv = argv
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    faces = bs.wider_faces(bs.ARGS.wider, 20)
    background = cv2.cvtColor(cv2.imread(str(bs.wider_photos(bs.ARGS.wider, 1, seed=7)[0])), cv2.COLOR_BGR2RGB)
    scene, _ = bs.compose(faces, background, (640, 480), 5)
    grid = np.concatenate([np.concatenate([cv2.resize(faces[r * 4 + c], (160, 160)) for c in range(4)], axis=1)
                           for r in range(3)], axis=0)  # fmt: skip
    photos = {"astronaut_300": cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA),
              "scene_640x480_5_faces": scene, "grid_640x480_12_faces": grid}  # fmt: skip
    predictor = Predictor.load()
    results: dict = {"tree": os.getcwd(), "threads": torch.get_num_threads(), "photos": {}}
    for name, photo in photos.items():
        row = {}
        for what, call in (("locate_ms", lambda x: next(predictor.locate_many([x]))),
                           ("predict_ms", predictor.predict)):  # fmt: skip
            for _ in range(3):
                call(photo)
            times = []
            for _ in range(args.calls):
                start = time.perf_counter()
                call(photo)
                times.append((time.perf_counter() - start) * 1000)
            row[what] = statistics.median(times)
        row["faces"] = len(predictor.predict(photo)["faces"])
        results["photos"][name] = row
    files = sorted(str(p) for p in (bs.ARGS.wider / "WIDER_train" / "images").glob("*/*.jpg"))[::7][: args.folder]
    list(predictor.predict_many(files[:10]))
    passes = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        n_faces = sum(len(r["faces"]) for r in predictor.predict_many(files))
        passes.append(len(files) / (time.perf_counter() - start))
    results["folder"] = {"photos": len(files), "faces": n_faces, "photos_per_s": max(passes), "passes": passes}
    results["load_average"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
