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
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path


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

    from lnet_anet.inference.predictor import Predictor

    sys.argv = argv
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    photos = _speed_photos()(bs)
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


def _speed_photos():
    """benchmarks/bench_localize_speed.speed_photos of this record's own tree (the tree timed may
    predate it; the module imports no lnet_anet, so the tree timed stays the one imported)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_localize_speed.py"
    spec = importlib.util.spec_from_file_location("bench_localize_speed_photos", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.speed_photos


if __name__ == "__main__":
    raise SystemExit(main())
