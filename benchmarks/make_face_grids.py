"""Grids of real faces for scoring a localizer on several faces side by side (issue 14).

    python benchmarks/make_face_grids.py --part val --out runs/face-grids/val

Each grid is n x n aligned CelebA-HQ faces (n = 2 .. 5) touching each other, every face resized
to one side drawn uniformly from [--min-side, --max-side] pixels for the grid, saved as a JPEG
(quality 92). The true box of a face is its whole tile: the aligned image is what LNet learnt to
box (its boxes on single celeba_hq128 files cover ~0.8 of the file, IoU-wise). Faces come from
the celeba_hq128 partition asked for: --part val (list_eval_partition 1, for scoring) or --part
tune (0, the train partition, for choosing settings); no face appears twice in one part.
--skip-faces K leaves out the first K faces of the part's shuffled order: with the same --seed,
grids disjoint from another run's that used K faces (e.g. grids to fit a model on beside the tune
grids it is chosen on: --part tune --skip-faces 1620).

Writes <out>/images/*.jpg, <out>/boxes.csv (`path,x0,y0,x1,y1`, benchmarks/bench_detection.py
--format csv reads it) and <out>/faces.csv: the same faces' face boxes as WIDER FACE labels faces
(brow to chin, cheek to cheek; what the Predictor reports with a face_box), each tile times
ALIGNED_FACE_BOX. The images hold CelebA-HQ faces: keep them under runs/, never commit them.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from lnet_anet.data import datasets_root
from lnet_anet.data.readers.celeba import read_partition

PARTS = {"tune": "train", "val": "val"}  # -> read_partition's split names
# The face box of an aligned CelebA-HQ file, (x0, y0, x1, y1) / side: the median MTCNN box (MTCNN
# learnt WIDER FACE's boxes) on 500 train-partition files, interquartile ranges 0.03-0.06
# (experiments/2026-12-01-face-box/aligned_face_box.py). Aligned files frame faces alike, so one box fits all.
ALIGNED_FACE_BOX = (0.2421, 0.1980, 0.7661, 0.9154)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--celeba-hq", type=Path, default=datasets_root(Path("../shared/datasets")) / "celeba_hq128",
                    help="the celeba_hq128 folder (default: under LNET_ANET_DATASETS or ../shared/datasets)")
    ap.add_argument("--images", default="img_celeba_hq", help="the image folder under --celeba-hq")
    ap.add_argument("--part", choices=tuple(PARTS), default="val")
    ap.add_argument("--per-size", type=int, default=30, help="grids of each n")
    ap.add_argument("--sizes", default="2,3,4,5", help="n of the n x n grids")
    ap.add_argument("--min-side", type=int, default=48)
    ap.add_argument("--max-side", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-faces", type=int, default=0,
                    help="leave out the first K faces of the shuffled part (grids disjoint from a run that used K)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    partition_file = args.celeba_hq / "list_eval_partition.txt"
    if not partition_file.is_file():
        print(f"error: {partition_file}: not found (is --celeba-hq the celeba_hq128 folder?)", file=sys.stderr)
        return 1
    partition = read_partition(partition_file)
    names = sorted(partition.index[partition == PARTS[args.part]])
    sizes = [int(n) for n in args.sizes.split(",")]
    needed = args.per_size * sum(n * n for n in sizes)
    if args.skip_faces < 0 or needed + args.skip_faces > len(names):
        print(f"error: {needed} faces needed after skipping {args.skip_faces}, the {args.part} part has {len(names)}",
              file=sys.stderr)
        return 1
    rng = np.random.default_rng(args.seed)
    faces = iter(rng.permutation(names)[args.skip_faces :])
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    rows, face_rows = [], []
    for n in sizes:
        for k in range(args.per_size):
            side = int(rng.integers(args.min_side, args.max_side + 1))
            grid = Image.new("RGB", (n * side, n * side))
            name = f"images/grid{n}x{n}_{k:03d}_{side}px.jpg"
            for i in range(n * n):
                y, x = divmod(i, n)
                with Image.open(args.celeba_hq / args.images / next(faces)) as face:
                    grid.paste(face.convert("RGB").resize((side, side), Image.BILINEAR), (x * side, y * side))
                rows.append([name, x * side, y * side, (x + 1) * side, (y + 1) * side])
                face_rows.append([name, *(round(v, 1) for v in np.add([x * side, y * side] * 2,
                                                                       np.multiply(ALIGNED_FACE_BOX, side)))])  # fmt: skip
            grid.save(args.out / name, quality=92)
    with open(args.out / "boxes.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["path", "x0", "y0", "x1", "y1"], *rows])
    with open(args.out / "faces.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["path", "x0", "y0", "x1", "y1"], *face_rows])
    print(f"{args.out}: {args.per_size * len(sizes)} grids, {len(rows)} faces ({args.part} part)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
