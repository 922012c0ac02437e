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

import numpy as np
import torch

from lnet_anet.cli.predict import IMAGE_SUFFIXES


@torch.inference_mode()
def lnet_boxes(predictor, paths: Sequence[Path], batch_size: int = 16):
    """Yield (path, box or None, score, number of faces) per image, LNet only."""
    from lnet_anet.data.images import read_image
    from lnet_anet.inference.predictor import Analysis, _normalise

    lnet = predictor._lnet
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        images = [read_image(p) for p in chunk]
        canvases = [predictor._canvas(img) for img in images]
        x = np.stack([_normalise(c, lnet["mean"], lnet["std"]) for c, _ in canvases])
        x = torch.from_numpy(x).to(predictor.device)
        responses = predictor.bundle.lnet(x)["response"].float().cpu().numpy()
        size = tuple(lnet["input_size"])
        found = [predictor.localizer(r, size) for r in responses]
        if predictor.cascade is not None:
            found = predictor.cascade.refine(predictor.bundle.lnet, x, found)
        for path, img, (_, content), dets in zip(chunk, images, canvases, found, strict=True):
            a = Analysis({}, img, content=content)
            located = predictor._locate(a, dets)
            if not located:
                yield path, None, 0.0, 0
                continue
            box, score = max(located, key=lambda bs: bs[1])
            yield path, box, score, len(located)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lnet_anet.cli.lnet_boxes", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a folder of images (not recursive)")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    parser.add_argument("--bundle", type=Path, help="model bundle (default: the embedded one)")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    from lnet_anet.inference.predictor import Predictor

    paths = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
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
