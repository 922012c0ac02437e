"""Tune diagnostic (issue 14: >= 99% of UTKFace chips get a face): the chips the shipped bundle
finds no face in, read again with their contrast or exposure corrected, against what the same
second reading adds on face-free photos. Tune parts only: UTKFace train-part chips (a seeded
sample), face-free crops of WIDER tune photos (bench_detection.face_free_crops), CelebA-HQ train
files. Run from the repository root:

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-02-photometric-fallback/diagnose.py --chips 3000
"""

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, "benchmarks")
argv, sys.argv = sys.argv, sys.argv[:1]  # the benchmarks parse their own arguments on import
import bench_detection as bd  # noqa: E402
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def autocontrast(img: np.ndarray) -> np.ndarray:
    return np.asarray(ImageOps.autocontrast(Image.fromarray(img), cutoff=1, preserve_tone=True))


def equalize(img: np.ndarray) -> np.ndarray:
    return np.asarray(ImageOps.equalize(Image.fromarray(img)))


def clahe(img: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def brighter(img: np.ndarray) -> np.ndarray:
    return np.clip(255 * (img / 255.0) ** 0.6, 0, 255).astype(np.uint8)


def gray(img: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


DATA = Path("../shared/datasets")


def tune_chips(n: int, seed: int) -> list:
    """A seeded sample of n UTKFace train-part chips (paths)."""
    utk = split_of(build_index(data_cfg("utkface", DATA)), "train").reset_index(drop=True)
    return list(utk.sample(n=n, random_state=seed)["path"])


def tune_face_free() -> list[str]:
    """The face-free crops of WIDER's tune photos (bench_detection.face_free_crops), written under runs/."""
    table = read_wider_txt(next(iter(sorted((DATA / "wider_face_train" / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
    tune = mark_small(table[hash_part(table["name"]) == "tune"].reset_index(drop=True), 24)
    return bd.face_free_crops(tune, Path("runs/photometric-fallback/face_free"))


VARIANTS = {"autocontrast": autocontrast, "equalize": equalize, "clahe": clahe, "gamma_0.6": brighter, "gray": gray}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chips", type=int, default=3000)
    ap.add_argument("--out", type=Path, default=Path("experiments/2026-12-02-photometric-fallback/diagnose.json"))
    args = ap.parse_args(argv[1:])
    p = Predictor.load()
    sets = {"utk_chips": tune_chips(args.chips, seed=1), "face_free": tune_face_free()}
    out = {"n": {k: len(v) for k, v in sets.items()}, "threshold": p.localizer.threshold}
    for name, paths in sets.items():
        found = [len(f) > 0 for f in p.locate_many(paths)]
        missed = [path for path, f in zip(paths, found, strict=True) if not f]
        row = {"with_a_face": float(np.mean(found)), "missed": len(missed), "added_by": {}}
        images = [np.asarray(load_image(m)) for m in missed]
        for vname, fn in VARIANTS.items():
            again = [len(f) > 0 for f in p.locate_many([fn(im) for im in images])]
            row["added_by"][vname] = int(sum(again))
        out[name] = row
        print(name, row, flush=True)
    args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
