"""Age on photos outside UTKFace, by a proxy (RULE.md line 4; a diagnostic, session 39).

    PYTHONPATH=. python experiments/2026-12-04-age-gpu/proxy.py \
        --bundle shipped=lnet_anet/assets/default.lnetanet ensemble=runs/age-gpu/ensemble.lnetanet \
        --files 1000 --out experiments/2026-12-04-age-gpu/proxy.json

CelebA-HQ files of the **train** partition (val is left for the val run), drawn with seed 0, go
through each bundle's `Predictor.predict` as a user's files would. CelebA-HQ carries no ages, so
the top face's age is set against CelebA's "Young" tag (`bench_end_to_end.age_vs_young`: ROC AUC
of the age for "not Young", the median age of each group, the share of "Young" faces read 45 or
more). JSON holds counts and figures only, no file names.

`--soften S` (a diagnostic of why faces in photos read older): each file is shrunk S times
(area) and enlarged back (bilinear) before it is read: the same faces with less fine detail.
With `--soften-above F`, only files whose focus measure (`lnet_anet.data.transforms.focus`) is
over F are.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_end_to_end import age_vs_young  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.readers.celeba import read_celeba  # noqa: E402
from lnet_anet.data.transforms import soften_sharp  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", nargs="+", required=True, help="LABEL=FILE")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--soften", type=float, default=1.0, help="shrink each file this many times and enlarge it back")
    ap.add_argument("--soften-above", type=float, default=0.0, help="soften only files whose focus is over this")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    index = read_celeba(datasets_root() / "celeba_hq128", images="auto", coords="none")
    train = index[index["split"] == "train"].sample(args.files, random_state=0)
    young = train["Young"].to_numpy() > 0
    out = {"part": "CelebA-HQ train", "files": len(train), "seed": 0, "soften": args.soften, "soften_above": args.soften_above, "bundles": {}}
    for label, path in (b.split("=", 1) for b in args.bundle):
        predictor = Predictor.load(path)
        ages = np.full(len(train), np.nan)
        for i, f in enumerate(tqdm(train["path"], desc=label)):
            image = soften_sharp(load_image(f), args.soften, args.soften_above) if args.soften != 1 else str(f)
            faces = predictor.predict(image)["faces"]
            if faces:
                ages[i] = faces[0]["age"]["mean"]
        out["bundles"][label] = {"file": path, "with_a_face": int(np.isfinite(ages).sum()),
                                 **age_vs_young(ages, young)}  # fmt: skip
        print(label, out["bundles"][label], flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
