"""Localization time per photo, two bundles and MTCNN on the same photos, call by call in turn.

    PYTHONPATH=. OMP_NUM_THREADS=2 python benchmarks/bench_localize_speed.py --before OLD.lnetanet \\
        --after NEW.lnetanet --calls 30 --out experiments/<date>-face-separation/localize-speed.json

Photos (as benchmarks/bench_ab.py and bench_speed.py build them): the astronaut at 300x300 (one
face), a 640x480 scene with 5 faces cut from WIDER photos pasted on a blurred WIDER photo, and a
640x480 4 x 3 grid of those faces touching. Each call: `Predictor.locate_many([photo])` (LNet at
every scale, the localizer, the merge; no ANet, no heads), or facenet-pytorch's MTCNN(keep_all)
`detect`. torch / ONNX Runtime threads: OMP_NUM_THREADS. Medians in ms and faces found.
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

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent


def speed_photos(bs) -> dict[str, np.ndarray]:
    """The three photos (module doc), uint8 RGB, built with `bs`, benchmarks/bench_speed imported
    (its --wider): the astronaut at 300x300, the 640x480 scene of 5 WIDER faces, the 4 x 3 grid."""
    from skimage import data

    faces = bs.wider_faces(bs.ARGS.wider, 20)
    background = cv2.cvtColor(cv2.imread(str(bs.wider_photos(bs.ARGS.wider, 1, seed=7)[0])), cv2.COLOR_BGR2RGB)
    scene, _ = bs.compose(faces, background, (640, 480), 5)
    grid = np.concatenate([np.concatenate([cv2.resize(faces[r * 4 + c], (160, 160)) for c in range(4)], axis=1)
                           for r in range(3)], axis=0)  # fmt: skip
    return {"astronaut_300": cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA),
            "scene_640x480_5_faces": scene, "grid_640x480_12_faces": grid}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, required=True)
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    argv, sys.argv = sys.argv, sys.argv[:1]  # bench_speed parses its own arguments on import
    sys.path.insert(0, str(HERE))
    import bench_speed as bs
    import torch
    from facenet_pytorch import MTCNN

    from lnet_anet.inference.predictor import Predictor

    sys.argv = argv
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    photos = speed_photos(bs)
    before, after = Predictor.load(args.before), Predictor.load(args.after)
    mtcnn = MTCNN(keep_all=True, device="cpu")
    runners = {"before": lambda x: next(before.locate_many([x])), "after": lambda x: next(after.locate_many([x])),
               "mtcnn": lambda x: [] if (b := mtcnn.detect(x)[0]) is None else list(b)}  # fmt: skip
    results = {}
    for name, photo in photos.items():
        times = {k: [] for k in runners}
        found = {k: len(f(photo)) for k, f in runners.items()}  # warm-up, and the faces found
        for _ in range(args.calls):
            for k, f in runners.items():
                t = time.perf_counter()
                f(photo)
                times[k].append((time.perf_counter() - t) * 1000)
        results[name] = {k: {"median_ms": statistics.median(v), "faces": found[k]} for k, v in times.items()}
        print(name, {k: f"{v['median_ms']:.1f} ms, {v['faces']} faces" for k, v in results[name].items()}, flush=True)
    record = {"command": " ".join(["python", *argv]), "before": str(args.before), "after": str(args.after),
              "threads": torch.get_num_threads(), "load_average": os.getloadavg(),
              "machine": {"processor": platform.machine(), "cpu_count": os.cpu_count()}, "results": results}  # fmt: skip
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
