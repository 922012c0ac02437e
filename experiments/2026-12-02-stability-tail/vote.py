"""Box voting across LNet's scales, tried and not kept (a diagnostic on a tune part; issue 15).

    PYTHONPATH=. python experiments/2026-12-02-stability-tail/vote.py --vote-iou 1.0 --n 150   # as shipped
    PYTHONPATH=. python experiments/2026-12-02-stability-tail/vote.py --vote-iou 0.5 --n 150   # voted

Each face kept by multiscale.merge (non-maximum suppression over the scales' detections) gets the
score-weighted mean of the detections that overlap it by IoU >= --vote-iou (box voting, Gidaris &
Komodakis, ICCV 2015), instead of its own box; 1.0 leaves merge as shipped. The bench's stability
figures on --n UTKFace train-part chips (bench_end_to_end's tune sample, seed 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg, stability  # noqa: E402

import lnet_anet.lnet.multiscale as multiscale  # noqa: E402
from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def voting(merge, vote_iou: float, power: float):
    def voted(detections, iou, max_faces, contain=multiscale.CONTAIN):
        kept = merge(detections, iou, max_faces, contain)
        if len(detections) < 2:
            return kept
        boxes = np.stack([np.asarray(b, np.float64) for b, _ in detections])
        weights = np.clip(np.array([s for _, s in detections]), 1e-6, None) ** power
        out = []
        for box, score in kept:
            overlap = box_iou(torch.from_numpy(np.asarray(box, np.float64)[None]), torch.from_numpy(boxes))[0].numpy()
            w = np.where(overlap >= vote_iou, weights, 0.0)
            out.append(((w[:, None] * boxes).sum(0) / w.sum(), score))
        return out

    return voted


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vote-iou", type=float, default=0.5, help="1.0: no voting (merge as shipped)")
    ap.add_argument("--power", type=float, default=1.0, help="weights: score ** power")
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    args = ap.parse_args(argv)
    if args.vote_iou < 1.0:
        multiscale.merge = voting(multiscale.merge, args.vote_iou, args.power)  # read_scales looks it up per call
    torch.set_num_threads(2)
    utk = build_index(data_cfg("utkface", args.datasets))
    chips = split_of(utk, "train").reset_index(drop=True)
    paths = chips["path"].sample(n=args.n, random_state=SAMPLE_SEED["tune"]).tolist()
    for name, v in stability(Predictor.load(), paths).items():
        print(f"{name:16s} {v['median_abs_d_age']:.2f} / {v['p95_abs_d_age']:5.2f}  flips {v['decisions_flipped']:.4f}  "
              f"box IoU {v['median_box_iou']:.3f}  found {v['found']:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
