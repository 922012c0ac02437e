"""Diagnostic (tune part only): where LNet's candidates for a 100 px face in a 6000 x 4000 photo
rank when the photo is read in detail tiles at several ratios, and how LNet scores the face on a
small canvas cut around it at finer ratios. Reads the photos bench_large_photo.py composed
(runs/large-photo/photos/tune.json).

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-06-large-photo-speed/diag.py > diag.json
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

import numpy as np
import torch
from torchvision.ops import box_iou

from lnet_anet.data.images import load_image
from lnet_anet.data.transforms import resize
from lnet_anet.inference.predictor import Predictor
from lnet_anet.lnet.multiscale import detail_tiles


def best_match(faces, truth, to_face):
    """(rank, score) of the first candidate whose face box has IoU >= 0.5 with truth, else None."""
    for rank, (box, score) in enumerate(faces):
        iou = float(box_iou(torch.tensor([to_face(box)]), torch.tensor([truth]))[0, 0])
        if iou >= 0.5:
            return rank, float(score)
    return None


def main() -> None:
    photos = json.load(open("runs/large-photo/photos/tune.json"))
    p = Predictor.load(None)
    to_face = p.localizer.to_face_box
    rows = []
    for ph in photos:
        img = load_image(ph["path"])
        h, w = img.shape[:2]
        row = {"path": ph["path"]}
        for ratio in (0.25, 0.35, 0.5):
            t = time.perf_counter()
            tiles, origins, (ky, kx), (nh, nw) = detail_tiles(img, ratio)
            loc = dataclasses.replace(p.localizer, max_size=96.0,
                                      min_size=min(24, p.localizer.min_size), threshold=-1e9, secondary_threshold=None,
                                      weak_threshold=None, crowd=None, min_relative_score=0.0, max_faces=50)
            faces = []
            for tile, (y0, x0) in zip(tiles, origins, strict=True):
                r = p._run["lnet"](tile[None])[0][0]
                for box, score in loc(r, tile.shape[:2]):
                    b = (np.asarray(box, np.float64) + [x0, y0, x0, y0]) / [kx, ky, kx, ky]
                    faces.append((b, float(score)))
            faces.sort(key=lambda f: -f[1])
            row[f"tiles_{ratio}"] = {"n_tiles": len(tiles), "s": time.perf_counter() - t, "match": best_match(faces, ph["face"], to_face),
                                     "over": {str(s): sum(f[1] > s for f in faces) for s in (-1, 0, 1, 2, 3)}}
        # the face on a 256 px canvas cut around it, at finer ratios
        x0, y0, x1, y1 = ph["face"]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for ratio in (0.5, 0.75, 1.0):
            half = 128 / ratio
            ys, xs = int(max(0, cy - half)), int(max(0, cx - half))
            part = img[ys:int(min(h, cy + half)), xs:int(min(w, cx + half))]
            small = resize(part, max(1, round(part.shape[0] * ratio)), max(1, round(part.shape[1] * ratio)))
            canvas = np.zeros((256, 256, 3), np.uint8)
            canvas[:small.shape[0], :small.shape[1]] = small[:256, :256]
            r = p._run["lnet"](canvas[None])[0][0]
            loc = dataclasses.replace(p.localizer, threshold=-1e9, secondary_threshold=None, weak_threshold=None, crowd=None,
                                      min_relative_score=0.0, max_faces=20)
            faces = [((np.asarray(b) / ratio) + [xs, ys, xs, ys], s) for b, s in loc(r, (256, 256))]
            row[f"crop_{ratio}"] = best_match(faces, ph["face"], to_face)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
