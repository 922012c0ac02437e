"""Would a gray photo with no face found keep its face if read again tinted? (diagnostic, tune parts; issue 14)

    PYTHONPATH=. python experiments/2026-12-02-gray-retry/diagnose.py --chips 600 --out runs/gray-retry/diagnose.json

LNet learnt faces from colour scenes; a grayscale copy of a UTKFace chip loses its face in about 1
case in 10 (experiments/2026-12-02-stability-tail). For UTKFace train-part chips made gray and for
the gray copies of WIDER tune face-free crops (bench_detection's rule, written by a tune run under
runs/), the images where the embedded bundle finds no face are read again with a tint that puts
colour back: the luma times an RGB gain (a skin-like sepia, or a plain warm tint). Counts the faces
found again among the chips, and the false alarms among the face-free crops.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.data.preprocess import LUMA  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

TINTS = {"sepia": (1.0, 0.80, 0.62), "warm": (1.0, 0.90, 0.80), "skin": (1.0, 0.75, 0.60)}


def gray(img: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(img).convert("L").convert("RGB"))


def tinted(img: np.ndarray, gains) -> np.ndarray:
    luma = img.reshape(-1, 3).astype(np.float32) @ LUMA
    scale = 1.0 / float(np.dot(gains, LUMA))  # the tint keeps the luma
    return np.clip(luma[:, None] * np.asarray(gains, np.float32) * scale, 0, 255).astype(np.uint8).reshape(img.shape)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chips", type=int, default=600)
    ap.add_argument("--face-free", type=Path, default=REPO / "runs/lnet-photometric/det-work-shipped/face_free")
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    p = Predictor.load()
    utk = build_index(data_cfg("utkface", args.datasets))
    chips = split_of(utk, "train").reset_index(drop=True)
    paths = chips["path"].sample(n=args.chips, random_state=SAMPLE_SEED["tune"]).tolist()
    result = {}
    for kind, files in (("gray chips", paths), ("gray face-free crops", sorted(map(str, args.face_free.glob("*.png"))))):
        images = [gray(np.asarray(Image.open(f).convert("RGB"))) for f in files]
        missed = [im for im in images if not p.predict(im)["faces"]]
        row = {"images": len(images), "with a face": len(images) - len(missed)}
        for name, gains in TINTS.items():
            row[f"found again, {name}"] = sum(bool(p.predict(tinted(im, gains))["faces"]) for im in missed)
        result[kind] = row
        print(kind, row, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
