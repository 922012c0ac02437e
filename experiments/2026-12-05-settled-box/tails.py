"""Which faces make the age's p95 tail under a small perturbation, and what differs in how they were read? (a diagnostic)

    PYTHONPATH=. python experiments/2026-12-05-settled-box/tails.py --run PARTS --chips 300 \
        --out experiments/2026-12-05-settled-box/tails-tune.json

For each UTKFace tune chip (PARTS as settle.py) and perturbation, through the shipped Predictor: the
top face of the chip and of the perturbed copy, their boxes (the perturbed one mapped back), IoU,
|Δage|, and how each was read: faces found, the top face's score, whether the photo was read through
an exposure-corrected copy (Analysis.read_as), the scales LNet read (len(Analysis.maps)), rescued."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from settle import diagnose  # noqa: E402

from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet.localizer import box_iou  # noqa: E402

PERTURB = ("jpeg_q95", "shift_x_4px", "scale_x0.9", "brightness_x1.5", "grayscale")


def reading(a) -> dict:
    faces = a.record["faces"]
    top = max(faces, key=lambda f: f["score"]) if faces else None
    return {"faces": len(faces), "score": None if top is None else top["score"], "box": None if top is None else top["box"],
            "age": None if top is None else top["age"]["mean"], "retry": a.read_as is not None, "scales": len(a.maps),
            "rescued": bool(a.record.get("rescued")) or bool(top and "face_probability" in top)}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--chips", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    tune, _ = diagnose.capture.parts(args.run, "tune")
    chips = tune.sample(n=min(args.chips, len(tune)), random_state=0)
    predictor = Predictor.load()
    rows = []
    for path in chips["path"]:
        img = Image.open(path).convert("RGB")
        base = reading(predictor.analyse(np.asarray(img)))
        if base["box"] is None:
            continue
        variants = diagnose.bench.perturbations(img)
        for p in PERTURB:
            arr, (sx, sy, tx, ty) = variants[p]
            got = reading(predictor.analyse(arr))
            row = {"chip": Path(path).name, "perturbation": p, "base": base, "perturbed": got}
            if got["box"] is not None:
                back = (np.array(got["box"]) - [tx, ty, tx, ty]) / [sx, sy, sx, sy]
                row["iou"] = float(box_iou(torch.tensor(np.array([base["box"]])), torch.tensor(back[None]))[0, 0])
                row["d_age"] = abs(got["age"] - base["age"])
            rows.append(row)
    summary = {}
    for p in PERTURB:
        got = [r for r in rows if r["perturbation"] == p and "d_age" in r]
        d = np.array([r["d_age"] for r in got])
        tail = [r for r in got if r["d_age"] >= np.percentile(d, 95)]
        rest = [r for r in got if r["d_age"] < np.percentile(d, 95)]

        def share(rs, test):
            return float(np.mean([test(r) for r in rs])) if rs else float("nan")

        summary[p] = {
            "faces": len(got), "p95_abs_d_age": float(np.percentile(d, 95)),
            **{f"{name}: tail / rest": [share(tail, t), share(rest, t)] for name, t in (
                ("iou < 0.7", lambda r: r["iou"] < 0.7),
                ("iou < 0.85", lambda r: r["iou"] < 0.85),
                ("exposure retry differs", lambda r: r["base"]["retry"] != r["perturbed"]["retry"]),
                ("scales read differ", lambda r: r["base"]["scales"] != r["perturbed"]["scales"]),
                ("rescue differs", lambda r: r["base"]["rescued"] != r["perturbed"]["rescued"]),
                ("faces found differ", lambda r: r["base"]["faces"] != r["perturbed"]["faces"]),
            )},
            "median iou: tail / rest": [float(np.median([r["iou"] for r in tail])), float(np.median([r["iou"] for r in rest]))],
        }  # fmt: skip
        print(p, json.dumps(summary[p]), flush=True)
    args.out.write_text(json.dumps({"part": "UTKFace tune part (diagnostic)", "command": " ".join(["python", *sys.argv]),
                                    "summary": summary, "rows": rows}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
