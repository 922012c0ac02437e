"""Does a lower localizer threshold only add faces? (issue 14; a fresh-user trial found that
`predict --threshold 0.3` lost a photo's four faces.) Tune part of WIDER only.

    PYTHONPATH=. python experiments/2026-12-04-threshold-policy/monotone.py --n 150 --out runs/threshold-policy/after.json

Each photo is read by the embedded Predictor as shipped and again with the localizer's threshold
lowered to each of --thresholds (predict --threshold T; -inf is bench_detection's opened
`lnet_anet` detector). A shipped face counts as kept when the lowered reading has a face box at
IoU >= 0.9 with it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

from lnet_anet.data import datasets_root
from lnet_anet.data.readers.detection import hash_part, read_wider_txt
from lnet_anet.inference.predictor import Predictor

REPO = Path(__file__).resolve().parents[2]


def boxes(predictor: Predictor, path: str) -> np.ndarray:
    return np.array([f["box"] for f in predictor.predict(path)["faces"]], np.float64).reshape(-1, 4)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.0, -float("inf")])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    root = args.datasets / "wider_face_train"
    wider = read_wider_txt(next(root.glob("wider_face_split/*_bbx_gt.txt")))
    paths = wider[hash_part(wider["name"]) == "tune"]["path"].tolist()[: args.n]
    shipped = Predictor.load()
    base = [boxes(shipped, p) for p in paths]
    result = {"photos": len(paths), "shipped_faces": int(sum(len(b) for b in base)), "thresholds": {}}
    for t in args.thresholds:
        lowered = Predictor.load()
        lowered.localizer.threshold = t
        kept = lost_photos = faces = 0
        for b0, path in zip(base, paths, strict=True):
            b1 = boxes(lowered, path)
            faces += len(b1)
            if len(b0):
                hit = (box_iou(torch.tensor(b0), torch.tensor(b1)).amax(1) >= 0.9).numpy() if len(b1) else np.zeros(len(b0), bool)
                kept += int(hit.sum())
                lost_photos += int(not hit.all())
        result["thresholds"][str(t)] = {"shipped_faces_kept": kept, "photos_losing_a_shipped_face": lost_photos,
                                        "faces": faces}  # fmt: skip
        print(t, result["thresholds"][str(t)], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
