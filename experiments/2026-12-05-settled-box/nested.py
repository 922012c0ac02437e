"""Could the face head tell the part from the face? (a diagnostic for the next candidate)

    PYTHONPATH=. python experiments/2026-12-05-settled-box/nested.py \
        --tails experiments/2026-12-05-settled-box/tails-tune.json --out experiments/2026-12-05-settled-box/nested-tune.json

For each "small vs big" pair of tails.py (the top face's box of a chip and of its perturbed copy, IoU < 0.7,
the smaller box under 0.3 of the larger's area: on UTKFace chips the small one is an eye or a patch of
hair, the large one the face), the shipped face head's P(face) of both boxes, each read in the image
where it was found (ANet's feature filled JUDGE_PAD, as the face head was fitted)."""

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

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.inference.predictor import JUDGE_PAD, Predictor  # noqa: E402


def area(b) -> float:
    return (b[2] - b[0]) * (b[3] - b[1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tails", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    predictor = Predictor.load()
    head = predictor.face_head
    rows = [r for r in json.loads(args.tails.read_text())["rows"] if "iou" in r and r["iou"] < 0.7]
    pairs = []
    for r in rows:
        b, p = r["base"]["box"], r["perturbed"]["box"]
        if min(area(b), area(p)) >= 0.3 * max(area(b), area(p)):
            continue
        img = Image.open(datasets_root() / "utkface128" / "UTKFace" / r["chip"]).convert("RGB")
        perturbed = diagnose.bench.perturbations(img)[r["perturbation"]][0]
        probs = {}
        for which, arr, box in (("base", np.asarray(img), b), ("perturbed", perturbed, p)):
            feature = predictor.anet_features(arr, [box], kind="face", pad=JUDGE_PAD)
            probs[which] = float(head.probability(feature)[0])
        small = "base" if area(b) < area(p) else "perturbed"
        large = "perturbed" if small == "base" else "base"
        pairs.append({"chip": r["chip"], "perturbation": r["perturbation"], "p_face_small": probs[small],
                      "p_face_large": probs[large], "d_age": r["d_age"]})  # fmt: skip
    small, large = np.array([q["p_face_small"] for q in pairs]), np.array([q["p_face_large"] for q in pairs])
    summary = {"pairs": len(pairs), "large more face-like": float(np.mean(large > small)),
               "median P(face) small / large": [float(np.median(small)), float(np.median(large))],
               "small P(face) < 0.5": float(np.mean(small < 0.5)), "large P(face) > 0.5": float(np.mean(large > 0.5))}  # fmt: skip
    print(json.dumps(summary))
    args.out.write_text(json.dumps({"part": "UTKFace tune part (diagnostic)", "command": " ".join(["python", *sys.argv]),
                                    "summary": summary, "pairs": pairs}, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
