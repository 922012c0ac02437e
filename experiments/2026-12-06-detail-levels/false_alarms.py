"""Tune diagnostic: the false alarms of `--detail 0.5` on set A's tune photos (with levels.patch
applied: `git apply experiments/2026-12-06-detail-levels/levels.patch`), each with its box's shorter
side and LNet score. Boxes on neither the pasted face (IoU < 0.5) nor any face of the background
(IoU < 0.3), as bench_large_photo.py counts them.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-06-detail-levels/false_alarms.py
"""

from __future__ import annotations

import json

import torch
from torchvision.ops import box_iou

from lnet_anet.inference.predictor import Predictor


def iou(a, b) -> float:
    return float(box_iou(torch.tensor([list(a)], dtype=torch.float64), torch.tensor([list(b)], dtype=torch.float64))[0, 0])


def main() -> None:
    photos = json.load(open("runs/large-photo/photos-A/tune.json"))
    predictor = Predictor.load(None)
    predictor.detail_ratio = 0.5
    for photo in photos:
        for box, score in next(predictor.locate_many([photo["path"]])):
            if iou(box, photo["face"]) < 0.5 and all(iou(box, o) < 0.3 for o in photo["background_faces"] + [photo["face"]]):
                side = int(min(box[2] - box[0], box[3] - box[1]))
                print(photo["path"], "false alarm", [int(v) for v in box], "shorter side", side, "score", round(float(score), 2))


if __name__ == "__main__":
    main()
