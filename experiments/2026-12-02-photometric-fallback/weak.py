"""Tune diagnostic, fourth step (after a fresh-user trial): in a dark (x0.15) photo the first
reading often finds a weak face (score under the localizer's secondary threshold, 3.0), so the
exposure retry never runs. Would retrying then too, and keeping the reading whose best face scores
higher, give better faces? Per tune image: IoU of the top box with the box found on the original
file, and the age error (chips). "shipped rule" is the rule before this step (retry only without
a face); the second arm became preprocessing.lnet.retry_weaker_than 3.0 in the embedded bundle.

    PYTHONPATH=. OMP_NUM_THREADS=2 python experiments/2026-12-02-photometric-fallback/weak.py --n 200
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

sys.path.insert(0, "experiments/2026-12-02-photometric-fallback")
argv, sys.argv = sys.argv, sys.argv[:1]
import diagnose as dg  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args(argv[1:])
    chips = dg.split_of(dg.build_index(dg.data_cfg("utkface", dg.DATA)), "train").reset_index(drop=True).sample(n=args.n, random_state=3)
    plain = Predictor.load()
    reference = [r["faces"][0]["box"] if r["faces"] else None for r in plain.predict_many(list(chips["path"]))]
    dark = [np.clip(np.asarray(load_image(p)).astype(np.float32) * 0.15, 0, 255).astype(np.uint8) for p in chips["path"]]
    free = [np.asarray(load_image(p)) for p in dg.tune_face_free()]
    out = {}
    for label, below in (("shipped rule", None), ("retry under 3.0 too", 3.0)):
        p = Predictor.load()  # the rule as preprocessing.lnet.retry_weaker_than sets it (first run: patched in, the same rule)
        p._lnet = dataclasses.replace(p._lnet, retry_exposure=(50.0, 200.0), retry_weaker_than=below)
        recs = list(p.predict_many(dark))
        ious, errors = [], []
        for r, ref, age in zip(recs, reference, chips["age"], strict=True):
            if r["faces"] and ref is not None:
                ious.append(float(box_iou(torch.tensor([r["faces"][0]["box"]]), torch.tensor([ref]))[0, 0]))
                errors.append(abs(r["faces"][0]["age"]["mean"] - age))
        fa = np.mean([len(r["faces"]) for r in p.predict_many(free)])
        out[label] = {"found": float(np.mean([bool(r["faces"]) for r in recs])), "median_iou_with_original": float(np.median(ious)),
                      "iou_below_0.5": float(np.mean(np.array(ious) < 0.5)), "age_mae": float(np.mean(errors)),
                      "stretched": sum(r.get("exposure") == "stretched" for r in recs), "face_free_fa": float(fa)}  # fmt: skip
        print(label, out[label], flush=True)
    Path("experiments/2026-12-02-photometric-fallback/weak.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
