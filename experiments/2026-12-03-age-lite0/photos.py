"""What the age heads read on real photos without age labels (a diagnostic, session 31).

    PYTHONPATH=. python experiments/2026-12-03-age-lite0/photos.py \
        --bundle before=runs/age-lite0/before.lnetanet ensemble=runs/age-lite0/ens-cal.lnetanet \
        member1=runs/age-lite0/tune-net.lnetanet member2=runs/age-lite0/tune-net2.lnetanet \
        --photos 120 --out experiments/2026-12-03-age-lite0/photos.json

WIDER FACE photos of the tune part (hash_part, as every WIDER record here) go through each
bundle's `Predictor.predict`; the bundles share LNet and its settings, so they find the same
faces (faces whose boxes differ by more than 1 px between bundles are left out). UTKFace's and
WIDER's people differ, and WIDER has no ages, so no bundle is right here; what the record shows
is how far apart the age heads read the same real faces, by face height (px in the photo), and
how far the ensemble's two members disagree. JSON holds counts and medians only, no file names.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import cv2
import numpy as np

from lnet_anet.data import datasets_root
from lnet_anet.data.readers.detection import hash_part
from lnet_anet.inference.predictor import Predictor

BANDS = [(0, 60), (60, 120), (120, 100000)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=FILE, the first is the reference")
    ap.add_argument("--photos", type=int, default=120)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    root = datasets_root() / "wider_face_train" / "WIDER_train" / "images"
    files = sorted(root.glob("*/*.jpg"))
    if not files:
        raise SystemExit(f"{root}: no WIDER photos")
    names = [f.relative_to(root).as_posix() for f in files]  # as the bbx_gt file names them
    files = [f for f, part in zip(files, hash_part(names), strict=True) if part == "tune"]
    random.Random(0).shuffle(files)
    predictors = {label: Predictor.load(path) for label, path in (b.split("=", 1) for b in args.bundle)}
    ref = next(iter(predictors))
    ages: dict[str, list[float]] = {k: [] for k in predictors}
    heights: list[float] = []
    for f in files[: args.photos]:
        image = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)
        faces = {k: p.predict(image)["faces"] for k, p in predictors.items()}
        for i in range(min(len(v) for v in faces.values())):
            box = np.array(faces[ref][i]["box"])
            if any(np.abs(np.array(v[i]["box"]) - box).max() > 1 for v in faces.values()):
                continue
            heights.append(float(box[3] - box[1]))
            for k in predictors:
                ages[k].append(faces[k][i]["age"]["mean"])
    h = np.array(heights)
    a = {k: np.array(v) for k, v in ages.items()}
    out = {"photos": min(args.photos, len(files)), "part": "WIDER tune", "faces": len(h),
           "bundles": dict(b.split("=", 1) for b in args.bundle), "by_face_height": {}}
    for lo, hi in BANDS:
        m = (h >= lo) & (h < hi)
        band = {"faces": int(m.sum()), "median_age": {k: round(float(np.median(v[m])), 1) for k, v in a.items()},
                "median_abs_diff_from_" + ref: {k: round(float(np.median(np.abs(v[m] - a[ref][m]))), 1)
                                                 for k, v in a.items() if k != ref}}  # fmt: skip
        if {"member1", "member2"} <= set(a):
            band["median_abs_member_disagreement"] = round(float(np.median(np.abs(a["member1"][m] - a["member2"][m]))), 1)
        out["by_face_height"][f"{lo}-{hi if hi < 100000 else ''}px"] = band
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
