"""How much fine detail the faces of each set hold (a diagnostic, session 39).

    PYTHONPATH=. python experiments/2026-12-04-age-gpu/detail.py --files 500 --out experiments/2026-12-04-age-gpu/detail.json

The variance of the Laplacian of the grey image (OpenCV, 3x3), a standard focus measure, on the
central 64x64 of each 128 px file (the face, little background): UTKFace train chips and
CelebA-HQ train files, 500 of each drawn with seed 0. Also the same for the files shrunk 2 times
and enlarged back (`proxy.soften`). JSON holds quartiles only, no file names.
"""

import argparse
import json
import random
from pathlib import Path

import cv2
import numpy as np
from proxy import soften

from lnet_anet.data import datasets_root
from lnet_anet.data.images import load_image


def focus(image: np.ndarray) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    centre = grey[h // 4: h - h // 4, w // 4: w - w // 4]
    return float(cv2.Laplacian(centre, cv2.CV_64F, ksize=3).var())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    root = datasets_root()
    sets = {"utkface128 chips": sorted((root / "utkface128" / "UTKFace").glob("*.jpg")),
            "celeba_hq128 files": sorted((root / "celeba_hq128" / "img_celeba_hq").glob("*.jpg"))}
    out = {"measure": "variance of the 3x3 Laplacian, central 64x64, grey", "files": args.files, "sets": {}}
    for name, files in sets.items():
        picked = random.Random(0).sample(files, args.files)
        images = [load_image(f) for f in picked]
        for label, values in (("as is", [focus(i) for i in images]), ("softened x2", [focus(soften(i, 2)) for i in images])):
            out["sets"][f"{name}, {label}"] = {q: round(float(np.percentile(values, p)), 1)
                                              for q, p in (("p25", 25), ("median", 50), ("p75", 75))}  # fmt: skip
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
