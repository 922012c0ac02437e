"""Diagnostic (README, "What the three rounds say"): does a face head with more capacity than a
logistic regression separate faces from face-free candidates better, on the same ANet feature?

    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/capacity.py --out experiments/2026-12-05-face-head-v2/tune/capacity.json

Candidates and features exactly as fit_face_head reads them (its _features, the embedded bundle):
- fit: round 3's lists (faces: the strongest candidate and the frame of each face file and its
  photometric copies; face-free: every candidate and the frame of each face-free crop and its copies);
- held out (tune only; no head learnt from them): the strongest candidate of photometric.py's
  1,000 UTKFace chips and 1,000 celeba_hq128 files as they are and made x3 brighter, and every
  candidate of the 444 held-out face-free crops as they are, x3 and x0.15 (exposed_free.py's copies).
Heads: the logistic regression of FaceHead.fit (C 1, balanced) against scikit-learn's
MLPClassifier (one hidden layer of 128, alpha 1e-2, early stopping, seed 0) on the same
standardised features. Each is read at the thresholds that keep 95% and 99% of the held-out
ordinary faces: the share of face-free candidates (ordinary / x3 / x0.15) above it, and of the x3
faces. Candidate level, not end to end: the rescue reads a picture's strongest candidate only.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "2026-12-03-face-filter"))
from collect import sets  # noqa: E402
from photometric import perturbed  # noqa: E402

from lnet_anet.cli.fit_face_head import _features  # noqa: E402
from lnet_anet.cli.head_fitting import image_files  # noqa: E402
from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.face_head import FaceHead  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402

R = Path("runs/face-head-v2")
FACES = [Path("runs/face-verifier/faces-fit.txt"), Path("runs/frame-rescue/utk-fit.txt"), R / "faces-photometric.txt"]
FREE = [Path("runs/face-verifier/free-fit.txt"), R / "free-more.txt", R / "free-photometric.txt"]


def files_of(lists: list[Path]) -> list[Path]:
    return [f for source in lists for f in image_files(source, None, 0)]


def held_out(work: Path) -> dict[str, list[str]]:
    """The held-out pictures, chosen as photometric.py and exposed_free.py choose them."""
    data = sets("tune", datasets_root(), work)
    rng = np.random.default_rng(0)
    out = {}
    for name in ("utkface", "celeba_hq"):
        held = [p for p, fitted in zip(data[name]["paths"], data[name]["fitted"], strict=True) if not fitted]
        out[f"faces_{name}"] = [held[i] for i in sorted(rng.choice(len(held), min(1000, len(held)), replace=False))]
        out[f"faces_{name}_x3"] = perturbed(out[f"faces_{name}"], "x3", work / "photometric-tune" / name / "x3")
    free = [p for p, fitted in zip(data["free"]["paths"], data["free"]["fitted"], strict=True) if not fitted]
    out["free"] = free
    for kind in ("x3", "x0.15"):
        out[f"free_{kind}"] = perturbed(free, kind, work / "exposed-free-tune" / kind)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("runs/face-filter"))
    ap.add_argument("--cache", type=Path, default=R / "capacity-features.npz")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    if args.cache.is_file():
        feats = dict(np.load(args.cache))
    else:
        predictor = Predictor.load()
        feats = {}
        pos, _ = _features(predictor, files_of(FACES), True, "faces", frames=True)
        neg, _ = _features(predictor, files_of(FREE), False, "face-free", frames=True)
        feats["fit_x"] = np.stack(pos + neg)
        feats["fit_y"] = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
        for name, paths in held_out(args.work).items():
            found, _ = _features(predictor, [Path(p) for p in paths], name.startswith("faces"), name)
            feats[name] = np.stack(found) if found else np.zeros((0, feats["fit_x"].shape[1]), np.float32)
        np.savez_compressed(args.cache, **feats)
    from sklearn.neural_network import MLPClassifier

    x, y = feats["fit_x"].astype(np.float64), feats["fit_y"]
    logistic = FaceHead.fit(x, y, c=1.0)
    mean, scale = x.mean(0), x.std(0) + 1e-6
    mlp = MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-2, early_stopping=True, random_state=0, max_iter=300)
    mlp.fit((x - mean) / scale, y)
    heads = {"logistic": logistic.probability, "mlp": lambda f: mlp.predict_proba((np.asarray(f, np.float64) - mean) / scale)[:, 1]}
    held = {k: v for k, v in feats.items() if not k.startswith("fit_")}
    out = {"command": shlex.join(["python", *sys.argv]), "machine": machine(),
           "n": {k: len(v) for k, v in feats.items() if k != "fit_y"}, "heads": {}}  # fmt: skip
    for label, prob in heads.items():
        p = {k: prob(v) if len(v) else np.zeros(0) for k, v in held.items()}
        ordinary = np.r_[p["faces_utkface"], p["faces_celeba_hq"]]
        row = {}
        for keep in (0.95, 0.99):
            t = float(np.quantile(ordinary, 1 - keep))
            row[f"keep_{keep}"] = {"threshold": t, **{k: float((v > t).mean()) for k, v in p.items() if len(v)}}
        out["heads"][label] = row
        print(label, json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
