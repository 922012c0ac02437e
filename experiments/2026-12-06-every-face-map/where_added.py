"""Where round 2's added faces go (a diagnostic on the choose half; tune part only, after round 2's
tune figures): each photo read by the candidate bundle through Predictor.analyse, with the faces
the check localizer adds counted before the face filter (verify_faces), after it, and in the
record; each matched to WIDER's faces (IoU 0.5; faces under 24 px and invalid ones don't care).

    PYTHONPATH=. python experiments/2026-12-06-every-face-map/where_added.py --bundle runs/find-on-check/candidate.lnetanet
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_detector import truth, wider_tune_halves  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402


def matches(boxes: list, care: np.ndarray) -> int:
    """How many of `boxes` overlap a face that counts at IoU >= 0.5."""
    if not len(boxes) or not len(care):
        return 0
    iou = box_iou(torch.as_tensor(np.stack(boxes), dtype=torch.float64), torch.as_tensor(care, dtype=torch.float64))
    return int((iou.amax(1) >= 0.5).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=HERE / "tune" / "where-added.json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    predictor = Predictor.load(args.bundle)
    _, choose = wider_tune_halves()
    seen: dict[str, list] = {}
    own_find, own_verify = predictor._find_on_check, predictor._verify

    def find(faces, readings, hw):  # the faces the check localizer adds, as face boxes
        out = own_find(faces, readings, hw)
        before = {id(f) for f in faces}
        seen["added"] = [predictor.localizer.to_face_box(f[0]) for f in out if id(f) not in before]
        seen["added_ids"] = [id(f) for f in out if id(f) not in before]
        return out

    def verify(images, found, originals):
        out = own_verify(images, found, originals)
        kept = {id(f) for faces in out for f in faces}
        seen["verified"] = [predictor.localizer.to_face_box(f[0]) for faces in found for f in faces
                            if id(f) in set(seen.get("added_ids", ())) and id(f) in kept]  # fmt: skip
        return out

    predictor._find_on_check, predictor._verify = find, verify
    totals = dict.fromkeys(("added", "added_true", "verified", "verified_true", "photos_with_added"), 0)
    for path, (boxes, dont_care) in zip(choose["path"], truth(choose), strict=True):
        seen.clear()
        predictor.analyse(path)
        care = boxes[~dont_care]
        added, verified = seen.get("added", []), seen.get("verified", [])
        totals["added"] += len(added)
        totals["added_true"] += matches(added, care)
        totals["verified"] += len(verified)
        totals["verified_true"] += matches(verified, care)
        totals["photos_with_added"] += bool(added)
    report = {"bundle": str(args.bundle), "photos": len(choose), **totals}
    print(json.dumps(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
