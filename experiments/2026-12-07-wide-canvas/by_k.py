"""Faces found (a reported box at IoU >= 0.5; faces >= 24 px high, not WIDER-invalid) and false
alarms (boxes at IoU < 0.3 with every labelled box) per panorama, by the number of photos k, from
bench_detection.py's saved detections.

    PYTHONPATH=. python experiments/2026-12-07-wide-canvas/by_k.py val shipped:lnet_anet_shipped \
        candidate:lnet_anet_shipped shipped:mtcnn > experiments/2026-12-07-wide-canvas/val/by_k.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torchvision.ops import box_iou


def main(argv: list[str]) -> int:
    part, rows = argv[0], argv[1:]
    R = Path("runs/wide-canvas")
    truth = pd.read_csv(R / part / "faces.csv")
    made = {m["path"]: m for m in json.loads((R / part / "panoramas.json").read_text())}
    out = {}
    for row in rows:
        run, detector = row.split(":")
        dets = {d["name"]: d for d in json.loads((R / f"pano-{part}-{run}" / f"detections_{detector}.json").read_text())}
        by_k: dict[int, list[int]] = {}
        for path, m in made.items():
            t = truth[truth.path == path]
            counts = (t.y1 - t.y0 >= 24) & (t.dont_care == 0)
            boxes = torch.tensor(dets[path]["boxes"], dtype=torch.float64).reshape(-1, 4)
            every = torch.tensor(t[["x0", "y0", "x1", "y1"]].to_numpy(), dtype=torch.float64).reshape(-1, 4)
            iou = box_iou(every, boxes) if len(boxes) and len(every) else torch.zeros(len(every), len(boxes), dtype=torch.float64)
            found = int((iou[torch.from_numpy(counts.to_numpy().copy())].amax(1) >= 0.5).sum()) if len(boxes) else 0
            false = int((iou.amax(0) < 0.3).sum()) if len(every) else len(boxes)
            tally = by_k.setdefault(m["k"], [0, 0, 0, 0])
            tally[0] += found
            tally[1] += int(counts.sum())
            tally[2] += false
            tally[3] += 1
        out[row] = {f"k{k}": {"found": round(f / n, 3), "faces": n, "false_alarms_per_panorama": round(fa / p, 2),
                              "median_aspect": float(np.median([m["aspect"] for m in made.values() if m["k"] == k]))}
                    for k, (f, n, fa, p) in sorted(by_k.items())}  # fmt: skip
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
