"""Darkened copies of the WIDER FACE photos of one part (hash_part, as bench_detection splits
them), in WIDER's layout under --out, with the label file beside them, so bench_detection.py reads
them as it reads WIDER. Pixels times --gain, rounded, written losslessly (PNG bytes under the
photo's own name: load_image reads by content). Written under runs/, never committed.

    PYTHONPATH=. python experiments/2026-12-06-dark-retry/make_dark.py --part tune --gain 0.1 --out runs/dark-retry/tune-x0.1
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from lnet_anet.data import datasets_root
from lnet_anet.data.images import load_image
from lnet_anet.data.readers.detection import hash_part, read_wider_txt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("tune", "val"), required=True)
    ap.add_argument("--gain", type=float, default=0.1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    wider = datasets_root() / "wider_face_train"
    labels = next(iter(sorted((wider / "wider_face_split").glob("wider_face_*_bbx_gt.txt"))))
    table = read_wider_txt(labels)
    table = table[hash_part(table["name"]) == args.part]
    (args.out / "wider_face_split").mkdir(parents=True, exist_ok=True)
    shutil.copy(labels, args.out / "wider_face_split" / labels.name)
    images = args.out / "WIDER_train" / "images"
    for name, path in zip(table["name"], table["path"], strict=True):
        dark = np.clip(np.round(load_image(path).astype(np.float32) * args.gain), 0, 255).astype(np.uint8)
        target = images / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as f:
            Image.fromarray(dark).save(f, format="PNG")
    print(f"{len(table)} photos x{args.gain:g} under {images}")


if __name__ == "__main__":
    main()
