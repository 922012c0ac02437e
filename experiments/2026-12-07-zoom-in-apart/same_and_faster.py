"""The zoom-in reading's faces at a kept face's place, no longer judged by the face head
(Predictor._zoom_in_again, multiscale.apart_from), against the code before (those faces judged,
then dropped by add_apart). The "before" arm is the same code with apart_from replaced by one that
keeps every face, which is what _zoom_in_again did before.
- the records of 300 files (150 WIDER train photos, 100 UTKFace chips, 50 CelebA-HQ files, a seeded
  sample from $LNET_ANET_DATASETS or ../shared/datasets) compared as JSON text;
- a 300 x 300 photo (skimage's astronaut resized, JPEG q95) and 40 UTKFace chips timed, the two
  arms alternating call by call (median ms).
Run from the repository root:

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-07-zoom-in-apart/same_and_faster.py
"""

from __future__ import annotations

import glob
import json
import random
import statistics
import time

from PIL import Image
from skimage.data import astronaut

import lnet_anet.inference.predictor as predictor_module
from lnet_anet.data import datasets_root
from lnet_anet.inference.predictor import Predictor

ARMS = {"after": predictor_module.apart_from, "before": lambda kept, added, iou, contain=None: list(added)}


def timed(predictor: Predictor, paths: list[str], rounds: int) -> dict[str, float]:
    """Median ms per call of each arm, the two alternating call by call (their order flipped every round)."""
    times: dict[str, list[float]] = {name: [] for name in ARMS}
    for k in range(rounds):
        for path in paths:
            for name in (list(ARMS) if k % 2 else list(ARMS)[::-1]):
                predictor_module.apart_from = ARMS[name]
                t = time.perf_counter()
                predictor.predict(path)
                times[name].append(time.perf_counter() - t)
    return {name: round(1000 * statistics.median(v), 1) for name, v in times.items()}


def main() -> None:
    random.seed(0)
    root = datasets_root()
    paths = random.sample(sorted(glob.glob(str(root / "wider_face_train/WIDER_train/images/*/*.jpg"))), 150)
    chips = random.sample(sorted(glob.glob(str(root / "utkface128/UTKFace/*.jpg"))), 100)
    paths += chips + random.sample(sorted(glob.glob(str(root / "celeba_hq128/*/*.jpg"))), 50)
    predictor = Predictor.load()
    records = {}
    for name, f in ARMS.items():
        predictor_module.apart_from = f
        records[name] = [json.dumps(rec, sort_keys=True) for rec in predictor.predict_many(paths)]
    same = sum(a == b for a, b in zip(records["after"], records["before"], strict=True))
    print("identical records", same, "of", len(paths), flush=True)

    photo = "/tmp/astro300.jpg"
    Image.fromarray(astronaut()).resize((300, 300)).save(photo, quality=95)
    for _ in range(3):
        predictor.predict(photo)
    print("astronaut 300 x 300, 40 calls each:", timed(predictor, [photo], 40), flush=True)
    print("40 UTKFace chips, 2 calls each:", timed(predictor, chips[:40], 2), flush=True)
    predictor_module.apart_from = ARMS["after"]


if __name__ == "__main__":
    main()
