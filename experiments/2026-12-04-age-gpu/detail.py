"""How much fine detail the faces of each set hold (a diagnostic, session 39).

    PYTHONPATH=. python experiments/2026-12-04-age-gpu/detail.py --files 500 --out experiments/2026-12-04-age-gpu/detail.json

The variance of the Laplacian of the grey image (OpenCV, 3x3), a standard focus measure (`lnet_anet.data.transforms.focus`), on the
central 64x64 of each 128 px file (the face, little background): chips of UTKFace's train part
(its 20% hold-out left out) and CelebA-HQ train files, 500 of each drawn with seed 0. Also the same for the files shrunk 2 times
and enlarged back (`lnet_anet.data.transforms.soften`). JSON holds quartiles only, no file names.

With --crops BUNDLE (round 6's bar, RULE.md): the same measure on the age crops that the Predictor
cuts from the same UTKFace train chips, the bundle's softening switched off while they are read
(its age head must read its own crop with `soften` set, e.g. round 5's bundle).
"""

import argparse
import json
import random
from pathlib import Path

import numpy as np

from lnet_anet.data import datasets_root
from lnet_anet.data.images import load_image
from lnet_anet.data.readers.age import holdout_split, read_utkface
from lnet_anet.data.readers.celeba import read_celeba
from lnet_anet.data.transforms import focus, soften
from lnet_anet.inference import predictor as predictor_module


def crop_focus(bundle: Path, files: list) -> list[float]:
    """focus() of every age crop the Predictor cuts from the files, read unsoftened."""
    seen: list[float] = []

    def measure_only(img, times, above):
        seen.append(focus(img))
        return img

    predictor_module.soften_sharp = measure_only
    model = predictor_module.Predictor.load(bundle)
    for f in files:
        model.predict(f)
    return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--crops", type=Path, help="a bundle whose age head softens its own crop: measure those crops")
    args = ap.parse_args()
    root = datasets_root()
    utk = holdout_split(read_utkface(root / "utkface128" / "UTKFace"), frac=0.2, seed=0)  # data/utkface.yaml's
    celeba = read_celeba(root / "celeba_hq128", images="auto", coords="none")
    sets = {"utkface128 train chips": sorted(utk.loc[utk["split"] == "train", "path"]),
            "celeba_hq128 train files": sorted(celeba.loc[celeba["split"] == "train", "path"])}
    out = {"measure": "variance of the 3x3 Laplacian, central 64x64, grey", "files": args.files, "sets": {}}
    for name, files in sets.items():
        picked = random.Random(0).sample(files, args.files)
        images = [load_image(f) for f in picked]
        for label, values in (("as is", [focus(i) for i in images]), ("softened x2", [focus(soften(i, 2)) for i in images])):
            out["sets"][f"{name}, {label}"] = {q: round(float(np.percentile(values, p)), 1)
                                              for q, p in (("p25", 25), ("median", 50), ("p75", 75), ("p90", 90))}  # fmt: skip
    if args.crops:
        picked = random.Random(0).sample(sets["utkface128 train chips"], args.files)
        values = crop_focus(args.crops, picked)
        out["crops"] = {"bundle": args.crops.name, "crops": len(values),
                        **{q: round(float(np.percentile(values, p)), 1)
                           for q, p in (("p25", 25), ("median", 50), ("p75", 75), ("p90", 90))},
                        "bar (p90, nearest 10)": int(round(float(np.percentile(values, 90)), -1))}  # fmt: skip
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
