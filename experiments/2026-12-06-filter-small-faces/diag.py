"""What the face filter refuses, by face size and LNet score (a diagnostic on WIDER's choose half; issue 14).

    PYTHONPATH=. python experiments/2026-12-06-filter-small-faces/diag.py --out experiments/2026-12-06-filter-small-faces/diag-choose.json

Every candidate the embedded Predictor hands to the face filter (Predictor._verify, after the check
map) is logged with its LNet score, the face head's P(face) (the filter's own computation), the
shorter side of its face box in photo pixels, and whether it is a face (face box IoU >= 0.5 with a
labelled face, don't-care ones included), on
- the choose half of WIDER's tune part (the face head learnt from the other half's candidates), and
- the face-free crops of those photos (bench_detection.face_free_crops: every candidate is false).
--zoom also reads every photo at the zoom-in scales (the bundle's zoom_in_below raised), to see what
the filter does with the small faces only the zoom-in finds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "experiments" / "2026-12-03-face-filter"))
from bench_detection import face_free_crops, find_wider_labels  # noqa: E402
from collect import VERIFIER_SEED, crop_photo  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, read_wider_txt  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

SIDES = (0, 16, 24, 32, 48, 64, 96, 1e9)  # face box shorter side, photo pixels
P_EDGES = (0.0, 0.001, 0.005, 0.02, 0.1, 0.5, 1.0001)


def choose_half():
    labels, _ = find_wider_labels(datasets_root() / "wider_face_train", "wider")
    table = read_wider_txt(labels)
    tune = table[hash_part(table["name"]) == "tune"].reset_index(drop=True)
    chosen = hash_part(tune["name"].tolist(), 0.5, seed=VERIFIER_SEED) != "tune"  # "tune" = the half the head fitted
    return tune[chosen].reset_index(drop=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "filter-small-faces")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--zoom", action="store_true")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(2)
    half = choose_half()
    if args.limit:
        half = half.iloc[: args.limit].reset_index(drop=True)
    crops = face_free_crops(half, args.work / "face_free")
    assert {crop_photo(Path(c)) for c in crops} <= set(half["name"])
    sets = {"wider_choose": [(p, np.asarray(b, float).reshape(-1, 4)) for p, b in zip(half["path"], half["boxes"], strict=True)],
            "face_free": [(p, np.zeros((0, 4))) for p in crops]}  # fmt: skip

    predictor = Predictor.load(backend="torch")
    if args.zoom:
        predictor._lnet = dataclasses.replace(predictor._lnet, zoom_in_below=16384.0, zoom_in_lone=True)
    log: list[tuple[np.ndarray, float, float]] = []
    original = Predictor._verify

    def logged(self, images, found, originals):
        pairs = [(k, face) for k, faces in enumerate(found) for face in faces]
        if pairs:
            chances = self.face_head.probability(self._mean_features([(images[k], *face, {}) for k, face in pairs]))
            log.extend((np.asarray(face[0], float).copy(), float(face[1]), float(p)) for (_, face), p in zip(pairs, chances, strict=True))
        return original(self, images, found, originals)

    Predictor._verify = logged
    out: dict = {"bundle": "embedded", "zoom_everywhere": args.zoom, "p_min": predictor._lnet.verify_faces[1]}
    for name, items in sets.items():
        rows = []
        for path, truth in items:
            log.clear()
            list(predictor.locate_many([path]))
            with Image.open(path) as im:
                w, h = im.size
            for region, score, chance in log:
                face = predictor.face_box(region, (h, w))
                iou = float(box_iou(torch.tensor(np.array([face])), torch.tensor(truth)).max()) if len(truth) else 0.0
                rows.append((score, chance, min(face[2] - face[0], face[3] - face[1]), iou >= 0.5))
        a = np.array(rows, dtype=float).reshape(-1, 4)
        table = {}
        for lo, hi in zip(SIDES[:-1], SIDES[1:], strict=True):
            at = (a[:, 2] >= lo) & (a[:, 2] < hi)
            cells = {}
            for plo, phi in zip(P_EDGES[:-1], P_EDGES[1:], strict=True):
                m = at & (a[:, 1] >= plo) & (a[:, 1] < phi)
                cells[f"P {plo:g}-{min(phi, 1):g}"] = [int((m & (a[:, 3] > 0)).sum()), int((m & (a[:, 3] == 0)).sum())]
            table[f"side {lo:g}-{hi:g} px"] = cells
        out[name] = {"pictures": len(items), "candidates": len(a), "faces_false_by_side_and_p": table,
                     "rows": [[round(r[0], 3), round(r[1], 5), round(r[2], 1), bool(r[3])] for r in rows]}  # fmt: skip
        print(name, len(items), "pictures", len(a), "candidates", flush=True)
        for side, cells in table.items():
            print(f"  {side:16s}", "  ".join(f"{k}: {v[0]}/{v[1]}" for k, v in cells.items()), flush=True)
    args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
