"""What multiscale.merge gets and keeps on a few UTKFace chips, as is and perturbed (a diagnostic; RULE.md, rule 4)

    PYTHONPATH=. python experiments/2026-12-05-nested-faces/probe.py [--picture] CHIP_PREFIX...

For each chip (a UTKFace file name prefix, e.g. 14_1_0_20170109204200483) as is, in grayscale and
at brightness x1.5 (bench_end_to_end's perturbations), through the Predictor with rule 3's
arbitration (with --picture: rule 4's): the faces reported (box, score, age) and the regions that
the final merge got and kept (image pixels). Prints only; the chips are tune-part chips."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-05-stretched-heads"))
import diagnose  # noqa: E402  (bench: the perturbations)

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet import multiscale  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("chips", nargs="+")
    ap.add_argument("--picture", action="store_true", help="rule 4: Predictor.arbitrate_picture on")
    args = ap.parse_args(argv)
    merged = []
    merge = multiscale.merge

    def watched(detections, *a, **k):  # the final merge is the one given an arbiter
        out = merge(detections, *a, **k)
        if k.get("arbiter") is not None:
            merged.append((list(detections), out))
        return out

    multiscale.merge = watched
    predictor = Predictor.load()
    predictor.arbitrate_nested, predictor.arbitrate_fill, predictor.arbitrate_picture = True, 0.8, args.picture
    folder = datasets_root() / "utkface128" / "UTKFace"

    def regions(detections):
        return [(np.round(b).astype(int).tolist(), round(float(s), 2)) for b, s in detections]

    for prefix in args.chips:
        img = Image.open(next(folder.glob(prefix + "*"))).convert("RGB")
        variants = diagnose.bench.perturbations(img)
        for tag, arr in (("as is", np.asarray(img)), ("gray", variants["grayscale"][0]),
                         ("x1.5", variants["brightness_x1.5"][0])):  # fmt: skip
            merged.clear()
            faces = predictor.analyse(arr).record["faces"]
            print(prefix, tag, [(f["box"], round(f["score"], 2), round(f["age"]["mean"], 1)) for f in faces])
            for got, kept in merged:
                print("   merge got", regions(got), "kept", regions(kept))
    return 0


if __name__ == "__main__":
    sys.exit(main())
