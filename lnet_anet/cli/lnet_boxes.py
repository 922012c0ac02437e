"""LNet's face box of every image of a folder, as the predictor finds it: a CSV for training a
head on the crops it will be given at prediction (data.index.boxes; FaceDataset crop="box").

    python -m lnet_anet.cli.lnet_boxes ../shared/datasets/scut_fbp5500_train/SCUT-FBP5500_v2/Images \\
        --out runs/scut-lnet-boxes.csv [--bundle lnet_anet/assets/default.lnetanet]

Writes `name,x0,y0,x1,y1,score,faces` (pixels of the image as read): the highest-scoring face
per image; an image where LNet finds no face gets an empty box (faces 0), and readers then fall
back to the whole image. Only LNet (and its cascade) runs: no ANet, no heads.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path

from lnet_anet.data.images import image_suffixes


def lnet_boxes(predictor, paths: Sequence[Path], batch_size: int = 16):
    """Yield (path, box or None, score, number of faces) per image, LNet only; the box is the
    best face's region, the box the heads crop (Predictor.locate_many kind "region")."""
    for path, faces in zip(paths, predictor.locate_many(paths, batch_size, kind="region"), strict=True):
        if not faces:
            yield path, None, 0.0, 0
            continue
        box, score = faces[0]
        yield path, box, score, len(faces)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lnet_anet.cli.lnet_boxes", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a folder of images (not recursive)")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    parser.add_argument("--bundle", type=Path, help="model bundle (default: the embedded one)")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    from lnet_anet.inference.predictor import Predictor

    paths = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in image_suffixes())
    if not paths:
        print(f"error: {args.folder}: no images", file=sys.stderr)
        return 1
    predictor = Predictor.load(args.bundle)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    missing = 0
    with args.out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "x0", "y0", "x1", "y1", "score", "faces"])
        for path, box, score, n in lnet_boxes(predictor, paths, args.batch_size):
            missing += box is None
            coords = ["", "", "", ""] if box is None else [f"{v:.2f}" for v in box]
            writer.writerow([path.name, *coords, f"{score:.5f}", n])
    print(f"{args.out}: {len(paths)} images, {missing} without a face")
    return 0


if __name__ == "__main__":
    sys.exit(main())
