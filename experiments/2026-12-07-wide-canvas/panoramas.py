"""Panoramas composed of WIDER FACE photos side by side (a diagnostic for photos much wider than
tall: a phone's panorama, a strip of photos).

    PYTHONPATH=. python experiments/2026-12-07-wide-canvas/panoramas.py --part tune --out runs/wide-canvas/tune

Photos: --part tune takes the WIDER choose half (runs/lnet-wild/choose.csv, the localizer's tune
photos), --part val the val part of `wider_face_train` (hash_part, as benchmarks/bench_detection.py
splits it). Shuffled with --seed, taken in order, --per-k panoramas for each k in --ks: k photos
resized (area) to the smallest height of the k, set side by side, saved as JPEG quality 95. Their
WIDER boxes move with them; WIDER's invalid faces are don't-care (bench_detection.py --min-height
makes faces under 24 px don't-care too). Writes <out>/images/*.jpg and <out>/faces.csv
(`path,x0,y0,x1,y1,dont_care`, bench_detection.py --format csv) and <out>/panoramas.json (each
panorama's photos and size). The images hold WIDER photos: keep them under runs/, never commit them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data import datasets_root
from lnet_anet.data.readers.detection import hash_part, read_wider_txt


def photos_of(part: str, wider: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(path, boxes (N, 4) x0 y0 x1 y1, dont_care (N,)) of each photo of the part."""
    if part == "tune":
        import pandas as pd

        rows = pd.read_csv("runs/lnet-wild/choose.csv")
        return [(p, g[["x0", "y0", "x1", "y1"]].to_numpy(float), g["dont_care"].to_numpy(int))
                for p, g in rows.groupby("path", sort=True)]  # fmt: skip
    table = read_wider_txt(next(iter(sorted((wider / "wider_face_split").glob("wider_face_*_bbx_gt.txt")))))
    table = table[hash_part(table["name"]) == "val"]
    return [(p, np.asarray(b, float).reshape(-1, 4), np.asarray(inv, int)) for p, b, inv in
            zip(table["path"], table["boxes"], table["invalid"], strict=True)]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("tune", "val"), required=True)
    ap.add_argument("--wider", type=Path, default=datasets_root() / "wider_face_train")
    ap.add_argument("--ks", type=int, nargs="+", default=[2, 3, 4, 5])
    ap.add_argument("--per-k", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    photos = photos_of(args.part, args.wider)
    order = np.random.default_rng(args.seed).permutation(len(photos))
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    rows, made, at = ["path,x0,y0,x1,y1,dont_care"], [], 0
    for k in args.ks:
        for _ in range(args.per_k):
            group = [photos[i] for i in order[at:at + k]]
            at += k
            if len(group) < k:
                raise SystemExit(f"{args.part}: {len(photos)} photos are too few for {args.per_k} panoramas per k")
            images = [cv2.imread(p) for p, _, _ in group]
            height = min(im.shape[0] for im in images)
            parts, x = [], 0
            path = (args.out / "images" / f"pano_k{k}_{len(made):03d}.jpg").resolve()
            for (_, boxes, dont), im in zip(group, images, strict=True):
                f = height / im.shape[0]
                parts.append(cv2.resize(im, (max(1, round(im.shape[1] * f)), height), interpolation=cv2.INTER_AREA))
                for b, d in zip(boxes, dont, strict=True):
                    rows.append(f"{path},{b[0] * f + x:.1f},{b[1] * f:.1f},{b[2] * f + x:.1f},{b[3] * f:.1f},{int(d)}")
                x += parts[-1].shape[1]
            pano = np.concatenate(parts, 1)
            cv2.imwrite(str(path), pano, [cv2.IMWRITE_JPEG_QUALITY, 95])
            made.append({"path": str(path), "k": k, "photos": [p for p, _, _ in group], "width": pano.shape[1],
                         "height": pano.shape[0], "aspect": round(pano.shape[1] / pano.shape[0], 3)})  # fmt: skip
    (args.out / "faces.csv").write_text("\n".join(rows) + "\n")
    (args.out / "panoramas.json").write_text(json.dumps(made, indent=1) + "\n")
    aspects = [m["aspect"] for m in made]
    print(f"{len(made)} panoramas, aspect {min(aspects):.2f}-{max(aspects):.2f} (median {np.median(aspects):.2f}), "
          f"{len(rows) - 1} boxes -> {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
