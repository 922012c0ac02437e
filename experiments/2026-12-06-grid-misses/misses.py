"""Diagnostic (tune grids only): why faces of the composed grids are not found at IoU 0.5.

Reads bench_detection.py's detections of the shipped bundle on the tune grids and, for each face
with no box over it at all, the localizer's candidates down to score -5 (Predictor.candidates).

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-06-grid-misses/misses.py \\
        runs/face-grids/tune runs/grids-diag/tune/detections_lnet_anet_shipped.json
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torchvision.ops import box_iou

from lnet_anet.data.images import load_image
from lnet_anet.inference.predictor import Predictor


def main(grids: Path, detections: Path) -> dict:
    found = {r["name"]: r for r in json.loads(detections.read_text())}
    faces = pd.read_csv(grids / "faces.csv")
    predictor = Predictor.load(None)
    kinds, candidate_kinds = collections.Counter(), collections.Counter()
    for name, group in faces.groupby("path"):
        truth = torch.tensor(group[["x0", "y0", "x1", "y1"]].to_numpy(), dtype=torch.float64)
        boxes = torch.tensor(found[name]["boxes"], dtype=torch.float64).reshape(-1, 4)
        best = box_iou(truth, boxes).max(1).values if len(boxes) else torch.zeros(len(truth), dtype=torch.float64)
        for iou in best.tolist():
            if iou < 0.5:
                kinds["box IoU 0.3-0.5 (misplaced)" if iou >= 0.3 else "box IoU 0-0.3" if iou > 0 else "no box over it"] += 1
        lost = [i for i, iou in enumerate(best.tolist()) if iou == 0]
        if not lost:
            continue
        img = load_image(grids / name)
        regions, scores, _ = predictor.candidates(img, min_score=-5)
        cands = torch.tensor(np.stack([predictor.face_box(r, img.shape[:2]) for r in regions])) if len(regions) else None
        for i in lost:
            ious = box_iou(truth[i:i + 1], cands)[0] if cands is not None else torch.zeros(0)
            if not len(ious) or ious.max() < 0.5:
                candidate_kinds["no candidate at IoU 0.5"] += 1
            else:
                candidate_kinds[f"candidate scoring {float(scores[int(ious.argmax())]):.1f}"] += 1
    return {"faces": len(faces), "missed": dict(kinds), "no box over it: candidates": dict(candidate_kinds)}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), indent=1))
