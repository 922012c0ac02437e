"""The localizer's window means (_WindowGrid.scores) computed in numpy, against the torch code of
an older commit (argv[1], default HEAD~; at the commit that made the change pass its parent):
- the two timed on the bundle's window grids of a 28 x 28 and a 56 x 56 map (random maps, 30 calls
  each, twice, alternating);
- the records of 250 files (150 WIDER train photos, 100 UTKFace chips, a seeded sample, from
  $LNET_ANET_DATASETS or ../shared/datasets) compared byte for byte;
- a 300 x 300 photo (skimage's astronaut resized, JPEG q95) timed, the two alternating, 40 calls
  each (median ms).
Run from the repository root:

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-scores-numpy/same_and_faster.py HEAD~
"""

from __future__ import annotations

import glob
import json
import random
import statistics
import subprocess
import sys
import time
import types

import numpy as np
import torch
from PIL import Image
from skimage.data import astronaut

from lnet_anet.data import datasets_root
from lnet_anet.inference.predictor import Predictor
from lnet_anet.lnet import localizer


def older_method(revision: str):
    """_WindowGrid.scores as the localizer module of `revision` defines it."""
    source = subprocess.run(["git", "show", f"{revision}:lnet_anet/lnet/localizer.py"], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    module = types.ModuleType("old_localizer")
    sys.modules["old_localizer"] = module  # its dataclasses look their module up
    exec(compile(source, "old_localizer", "exec"), module.__dict__)
    return module._WindowGrid.scores


def main() -> None:
    new, old = localizer._WindowGrid.scores, older_method(sys.argv[1] if len(sys.argv) > 1 else "HEAD~")
    both = (("old", old), ("new", new))
    predictor = Predictor.load()
    for side in (28, 56):
        grid = predictor.localizer._window_grid((side, side), 224 / 28)
        r = torch.from_numpy(np.random.default_rng(0).normal(size=(side, side)))
        assert torch.equal(old(grid, r), new(grid, r))
        for name, f in both + both:
            t = time.perf_counter()
            for _ in range(30):
                f(grid, r)
            print(name, f"{side} x {side} map, {len(grid.boxes)} windows", round((time.perf_counter() - t) / 30 * 1000, 2), "ms")

    random.seed(0)
    root = datasets_root()
    paths = random.sample(sorted(glob.glob(str(root / "wider_face_train/WIDER_train/images/*/*.jpg"))), 150)
    paths += random.sample(sorted(glob.glob(str(root / "utkface128/UTKFace/*.jpg"))), 100)
    records = {}
    for name, f in both:
        localizer._WindowGrid.scores = f
        records[name] = [json.dumps(rec, sort_keys=True) for rec in predictor.predict_many(paths)]
    same = sum(a == b for a, b in zip(records["new"], records["old"], strict=True))
    print("identical records", same, "of", len(paths))

    photo = "/tmp/astro300.jpg"
    Image.fromarray(astronaut()).resize((300, 300)).save(photo, quality=95)
    for _ in range(3):
        predictor.predict(photo)
    times: dict[str, list[float]] = {"new": [], "old": []}
    for k in range(40):
        for name, f in both if k % 2 else both[::-1]:
            localizer._WindowGrid.scores = f
            t = time.perf_counter()
            predictor.predict(photo)
            times[name].append(time.perf_counter() - t)
    localizer._WindowGrid.scores = new
    print("300 x 300 photo, median ms", {name: round(1000 * statistics.median(v), 1) for name, v in times.items()})


if __name__ == "__main__":
    main()
