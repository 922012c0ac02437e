"""Where do the age tails under a perturbation come from: the heads, or the box that moves? (a diagnostic)

    PYTHONPATH=. python experiments/2026-12-05-stretched-heads/fixed_box.py --run PARTS --chips 400 \
        --out experiments/2026-12-05-stretched-heads/fixed_box.json

For each UTKFace tune chip (PARTS as in diagnose.py) and each perturbation, the age change is measured
in two ways, both through the shipped Predictor:
- "found": as predict answers, the perturbed image's own top face against the original's top face;
- "fixed box": the face box the original's top face got, mapped into the perturbed image, read by
  Predictor.analyse_boxes (kind "face") there and in the original, so only the pixels differ."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diagnose import PERTURB, capture, perturbed_reads  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402

PERTURBATIONS = (*PERTURB, "shift_x_4px", "shift_y_4px", "scale_x0.9")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--chips", type=int, default=400)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--no-refine-boxes", action="store_true", help="the bundle's box head off (predict --no-refine-boxes)")
    ap.add_argument("--box-jitter", action="store_true", help="each face read through 7 views of its region (predict --box-jitter)")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    tune, _ = capture.parts(args.run, "tune")
    chips = tune.sample(n=min(args.chips, len(tune)), random_state=0)
    predictor = Predictor.load()
    predictor.refine_boxes = not args.no_refine_boxes
    predictor.box_jitter = args.box_jitter
    errors = []
    found = {p: [] for p in PERTURBATIONS}
    fixed = {p: [] for p in PERTURBATIONS}
    for img, variants, age, base, others in perturbed_reads(predictor, chips, PERTURBATIONS):
        errors.append(base["age"]["mean"] - age)
        box = np.array(base["box"], dtype=float)
        age0 = predictor.analyse_boxes(np.asarray(img), [box], kind="face")[0]["age"]["mean"]
        for p, face in zip(PERTURBATIONS, others, strict=True):
            arr, (sx, sy, tx, ty) = variants[p]
            if face is not None:
                found[p].append(abs(face["age"]["mean"] - base["age"]["mean"]))
            moved = box * [sx, sy, sx, sy] + [tx, ty, tx, ty]
            fixed[p].append(abs(predictor.analyse_boxes(arr, [moved], kind="face")[0]["age"]["mean"] - age0))
    summary = {p: {way: {"faces": len(d), "median_abs_d_age": float(np.median(d)), "p95_abs_d_age": float(np.percentile(d, 95))}
                   for way, d in (("found", found[p]), ("fixed box", fixed[p]))} for p in PERTURBATIONS}  # fmt: skip
    result = {"part": "UTKFace tune part (diagnostic)", "command": " ".join(["python", *sys.argv]),
              "refine_boxes": predictor.refine_boxes, "box_jitter": predictor.box_jitter, "with_face": len(errors), "mae": float(np.abs(errors).mean()),
              "bias": float(np.mean(errors)), "perturbations": summary}  # fmt: skip
    args.out.write_text(json.dumps(result, indent=2))
    for p, s in summary.items():
        print(p, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
