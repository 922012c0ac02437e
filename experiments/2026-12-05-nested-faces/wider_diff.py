"""Where does arbitration lose WIDER AP? (a diagnostic on the tune part)

    PYTHONPATH=. python experiments/2026-12-05-nested-faces/wider_diff.py --out experiments/2026-12-05-nested-faces/wider-diff-tune.json

Both policies of rule 2 ("shipped", "arbitrate large") through Predictor on each WIDER tune photo, the
threshold opened as bench_detection's "lnet_anet". Faces are paired by score and position in the
record (arbitration keeps each face's score and changes only the box). For each face whose box
changed: the best IoU of the old and of the new box with a labelled face (don't-care faces
included), and the box's size against the picture."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-05-settled-box"))
import settle  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402


def side(box, hw) -> float:
    """A box's shorter side over the picture's shorter side (hw: (h, w))."""
    return min(box[2] - box[0], box[3] - box[1]) / min(hw)


def opened(arbitrate: bool) -> Predictor:
    p = Predictor.load()
    p.arbitrate_nested = arbitrate
    loc = p.localizer
    loc.threshold, loc.min_relative_score, loc.max_faces, loc.max_peaks = -float("inf"), 0.0, 100, 200
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    _, df, truth = settle.wider_part("tune")
    shipped, arbitrate = opened(False), opened(True)
    changed = []
    for (path, (boxes, dont)) in zip(df["path"], truth, strict=True):
        a, b = shipped.analyse(path), arbitrate.analyse(path)
        gt = np.asarray(boxes, np.float64).reshape(-1, 4)  # every labelled face, don't-care ones too
        hw = (a.record["height"], a.record["width"])
        for fa, fb in zip(a.record["faces"], b.record["faces"], strict=False):
            if fa["score"] != fb["score"] or np.allclose(fa["box"], fb["box"], atol=0.5):
                continue
            ious = [float(box_iou(torch.tensor([f["box"]]), torch.from_numpy(gt)).max()) if len(gt) else 0.0 for f in (fa, fb)]
            changed.append({"image": Path(path).name, "score": fa["score"], "old_iou": ious[0], "new_iou": ious[1],
                            "old_side": side(fa["box"], hw), "new_side": side(fb["box"], hw), "faces_counted": int((~dont).sum())})  # fmt: skip
    old, new = np.array([c["old_iou"] for c in changed]), np.array([c["new_iou"] for c in changed])
    summary = {"images": len(df), "faces changed": len(changed),
               "old matched (IoU >= 0.5) / new matched": [int((old >= 0.5).sum()), int((new >= 0.5).sum())],
               "lost a match": int(((old >= 0.5) & (new < 0.5)).sum()), "gained a match": int(((old < 0.5) & (new >= 0.5)).sum()),
               "median new box side / picture side": float(np.median([c["new_side"] for c in changed])) if changed else None}  # fmt: skip
    print(json.dumps(summary))
    args.out.write_text(json.dumps({"part": "WIDER tune part (diagnostic)", "command": " ".join(["python", *sys.argv]),
                                    "summary": summary, "changed": changed}, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
