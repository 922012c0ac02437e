"""Which candidates the check map drops, by LNet score (a diagnostic on tune data only; issue 14).

    PYTHONPATH=. python experiments/2026-12-06-check-exempt/diag.py --out experiments/2026-12-06-check-exempt/diag-tune.json

Every candidate the embedded Predictor hands to the check (Predictor._pass_check) is logged with its
LNet score and its check evidence (multiscale.check_evidence), on WIDER's tune part (face box IoU >=
0.5 with a labelled face, don't-care ones included, = a face), face-free crops of those photos
(bench_detection.face_free_crops: all false) and the 120 tune grids (runs/face-grids/tune).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_detection import face_free_crops, find_wider_labels  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, read_wider_txt  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet.multiscale import check_evidence  # noqa: E402

BANDS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 1e9)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "check-exempt")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    labels, _ = find_wider_labels(datasets_root() / "wider_face_train", "wider")
    table = read_wider_txt(labels)
    tune = table[hash_part(table["name"]) == "tune"].reset_index(drop=True)
    sets: dict[str, list[tuple[str, np.ndarray]]] = {
        "wider_tune": [(p, np.asarray(b, float).reshape(-1, 4)) for p, b in zip(tune["path"], tune["boxes"], strict=True)],
        "face_free": [(p, np.zeros((0, 4))) for p in face_free_crops(tune, args.work / "face_free")]}  # fmt: skip
    grids = defaultdict(list)
    with open(REPO / "runs" / "face-grids" / "tune" / "faces.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            grids[str(REPO / "runs" / "face-grids" / "tune" / r["path"])].append([float(r[k]) for k in ("x0", "y0", "x1", "y1")])
    sets["grids_tune"] = [(p, np.array(b)) for p, b in grids.items()]

    predictor = Predictor.load()
    log: list[tuple[np.ndarray, float, float]] = []
    original = Predictor._pass_check

    def logged(self, faces, readings):
        log.extend((np.asarray(box, float).copy(), float(score), check_evidence(box, readings)) for box, score in faces)
        return original(self, faces, readings)

    Predictor._pass_check = logged
    need = predictor._lnet.check_faces
    out = {}
    for name, items in sets.items():
        rows = []
        for path, truth in items:
            log.clear()
            hw = list(predictor.locate_many([path]))  # runs the whole detection, the check included
            from PIL import Image

            with Image.open(path) as im:
                w, h = im.size
            for region, score, evidence in log:
                face = predictor.face_box(region, (h, w))
                iou = float(box_iou(torch.tensor([face]), torch.tensor(truth)).max()) if len(truth) else 0.0
                rows.append((score, evidence, iou >= 0.5))
            del hw
        a = np.array(rows, dtype=float).reshape(-1, 3)
        dropped = a[:, 1] < need
        bands = {}
        for lo, hi in zip(BANDS[:-1], BANDS[1:], strict=True):
            m = dropped & (a[:, 0] >= lo) & (a[:, 0] < hi)
            kept = ~dropped & (a[:, 0] >= lo) & (a[:, 0] < hi)
            bands[f"{lo:g}-{hi:g}"] = {"dropped_faces": int((m & (a[:, 2] > 0)).sum()), "dropped_false": int((m & (a[:, 2] == 0)).sum()),
                                       "kept_faces": int((kept & (a[:, 2] > 0)).sum()), "kept_false": int((kept & (a[:, 2] == 0)).sum())}  # fmt: skip
        out[name] = {"pictures": len(items), "candidates": len(a), "by_score": bands}
        print(name, json.dumps(out[name]), flush=True)
    args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
