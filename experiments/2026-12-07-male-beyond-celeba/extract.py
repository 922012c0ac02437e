"""ANet's patch-averaged feature of each file's strongest face (what the attribute SVMs read), end
to end through `Predictor.predict_many`, for the fit and tune sets of RULE.md, with each set's
`Male` label (CelebA-HQ's attribute; UTKFace's gender 0). NaN rows where no face was found.

    PYTHONPATH=. python experiments/2026-12-07-male-beyond-celeba/extract.py --out runs/male/features.npz
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_fit_tune, split_of  # noqa: E402
from lnet_anet.inference import predictor as predictor_module  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
parser.add_argument("--n-fit", type=int, default=4000)
parser.add_argument("--n-utk-tune", type=int, default=1500)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

celeba = build_index(data_cfg("celeba_hq", args.datasets))
fit, tune = split_fit_tune(split_of(celeba, "train"), frac=0.1, seed=0)
fit = fit.sample(n=min(args.n_fit, len(fit)), random_state=0)
utk = split_of(build_index(data_cfg("utkface", args.datasets)), "train").reset_index(drop=True)
utk_tune = utk.sample(n=args.n_utk_tune, random_state=1)
utk_fit = utk.drop(utk_tune.index).sample(n=args.n_fit, random_state=0)
sets = {"celeba_fit": (fit["path"], fit["Male"] == 1), "celeba_tune": (tune["path"], tune["Male"] == 1),
        "utk_fit": (utk_fit["path"], utk_fit["gender"] == 0), "utk_tune": (utk_tune["path"], utk_tune["gender"] == 0)}

predictor = Predictor.load()
original = predictor_module.Predictor._analyse_faces


def analyse_and_keep(self, faces):
    """The shipped analysis; each face's ANet feature kept in its record under a private key."""
    features = original(self, faces)
    for (*_, face), f in zip(faces, features, strict=True):
        face["_anet"] = np.asarray(f, np.float32)
    return features


predictor_module.Predictor._analyse_faces = analyse_and_keep
out = {}
start = time.time()
for name, (paths, male) in sets.items():
    paths = paths.tolist()
    feats = np.full((len(paths), 256), np.nan, np.float32)
    for i, record in enumerate(predictor.predict_many(paths, batch_size=8)):
        if record["faces"]:
            feats[i] = max(record["faces"], key=lambda f: f["score"])["_anet"]
        if i % 1000 == 0:
            print(f"{name}: {i}/{len(paths)} {time.time() - start:.0f} s", flush=True)
    out[f"{name}_x"], out[f"{name}_y"] = feats, np.asarray(male, bool)
    out[f"{name}_paths"] = np.array(paths)
args.out.parent.mkdir(parents=True, exist_ok=True)
np.savez(args.out, **out)
print(f"wrote {args.out} in {time.time() - start:.0f} s: " +
      ", ".join(f"{k[:-2]} {len(v)} ({int(np.isnan(v[:, 0]).sum())} without a face)" for k, v in out.items() if k.endswith("_x")))
