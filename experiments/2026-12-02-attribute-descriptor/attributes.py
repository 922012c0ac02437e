"""Diagnostic (issue 15): do dlib's face-recognition outputs add to ANet's feature for the 40
CelebA attributes? Chosen on the tune part of train only; the val part is not read.

Inputs: fit_svms' feature cache of the shipped bundle (ANet's 9 patch features per face, on the
LNet crops; fit / tune parts of celeba_hq128 train, split by identity) and dlib_features.py's
cache (dlib's descriptor and last map from the same LNet boxes). Each candidate is fitted on the
fit part; the tune part is split in two by identity, Platt scaling and decision thresholds are
fitted on one half and scored on the other, both ways (cross-fitting), as fit_svms chooses them:

- the shipped SVMs' scores (runs/svms-celeba_hq128/svm.safetensors: mean SVM margin over the
  9 patches), recalibrated per half;
- logistic regression (one linear layer, 40 outputs) on ANet's mean feature; on dlib's outputs
  (map L2-normalised, then the descriptor); on both;
- the SVM margin + the dlib model's logit (mixed before Platt).

    PYTHONPATH=. python experiments/2026-12-02-attribute-descriptor/attributes.py \
        --features runs/svms-celeba_hq128 --dlib runs/attr-desc/dlib.npz \
        --out experiments/2026-12-02-attribute-descriptor/attributes.json
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file

from lnet_anet.anet.svm import LinearSVMHead
from lnet_anet.data.from_config import split_fit_tune, split_of
from lnet_anet.data.readers.celeba import read_celeba

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/celeba_hq128"))
parser.add_argument("--features", type=Path, required=True)
parser.add_argument("--dlib", type=Path, required=True)
parser.add_argument("--weight-decay", type=float, nargs="+", default=[1e-4, 1e-3])
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.manual_seed(0)

fit, tune = (np.load(args.features / f"features-{p}.npz") for p in ("fit", "tune"))
dlib = np.load(args.dlib)["outputs"]
# The caches' "index" is the row within each part: the parts rebuilt as fit_svms made them
# (tune_split frac 0.1, seed 0, by identity), and checked against the cached labels.
frame = read_celeba(args.root, coords="none")
frame["row"] = np.arange(len(frame))
fit_part, tune_part = split_fit_tune(split_of(frame, "train"), frac=0.1, seed=0)
for part, cache in ((fit_part, fit), (tune_part, tune)):
    labels = part.iloc[cache["index"]][list(frame.attrs["attributes"])].to_numpy()
    assert (labels == cache["attributes"]).all(), "the rebuilt parts do not match the feature cache"
fit_rows, tune_rows = fit_part["row"].to_numpy()[fit["index"]], tune_part["row"].to_numpy()[tune["index"]]
identity = frame["identity"].to_numpy()


def dlib_inputs(rows: np.ndarray) -> np.ndarray:
    out = dlib[rows]
    grid = out[:, 128:] / np.linalg.norm(out[:, 128:], axis=1, keepdims=True)
    return np.concatenate([grid, out[:, :128]], 1)


def standardised(train: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(0), train.std(0) + 1e-6
    return (train - mean) / std, (other - mean) / std


def logistic(x: np.ndarray, y: np.ndarray, other: np.ndarray, weight_decay: float) -> np.ndarray:
    """Multi-label logistic regression fitted full-batch (L-BFGS) on x; the logits of `other`."""
    x, other = standardised(x, other)
    xt, yt = torch.from_numpy(x).float(), torch.from_numpy(y).float()
    layer = torch.nn.Linear(x.shape[1], y.shape[1])
    opt = torch.optim.LBFGS(layer.parameters(), lr=1, max_iter=args.epochs, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(layer(xt), yt)
        loss = loss + weight_decay * layer.weight.pow(2).sum() / 2
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return layer(torch.from_numpy(other).float()).numpy().astype(np.float64)


def crossfit(scores: np.ndarray, y: np.ndarray, halves: list[np.ndarray]) -> dict:
    """Platt + thresholds fitted on one tune half, scored on the other, both ways (fit_svms' choice
    of balance weight: the best balanced accuracy within 0.005 of the best accuracy)."""
    results = []
    for a, b in (halves, halves[::-1]):
        head = LinearSVMHead(np.eye(y.shape[1]), np.zeros(y.shape[1]), np.ones(y.shape[1]), np.zeros(y.shape[1]),
                             np.zeros(y.shape[1]), np.ones(y.shape[1]))  # fmt: skip
        head.calibrate(scores[a], y[a])
        pa, pb = head.probabilities(scores[a]), head.probabilities(scores[b])
        options = []
        for w in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0):
            head.choose_thresholds(pa, y[a], w)
            options.append((w, accuracy(pa >= head.threshold, y[a]), head.threshold.copy()))
        best = max(o[1][0] for o in options)
        w, _, threshold = max((o for o in options if o[1][0] >= best - 0.005), key=lambda o: o[1][1])
        results.append({"decisions": accuracy(pb >= threshold, y[b]), "p>=0.5": accuracy(pb >= 0.5, y[b]),
                        "balance_weight": w})  # fmt: skip
    return {"decisions": np.mean([r["decisions"] for r in results], 0).round(4).tolist(),
            "p>=0.5": np.mean([r["p>=0.5"] for r in results], 0).round(4).tolist(),
            "per_half": results}  # fmt: skip


def accuracy(pred: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean accuracy, mean balanced accuracy) over the attributes."""
    y = y.astype(bool)
    acc = (pred == y).mean(0)
    tpr = (pred & y).sum(0) / np.maximum(y.sum(0), 1)
    tnr = (~pred & ~y).sum(0) / np.maximum((~y).sum(0), 1)
    return float(acc.mean()), float(((tpr + tnr) / 2).mean())


y_fit, y_tune = fit["attributes"].astype(np.float64), tune["attributes"].astype(np.float64)
ids = identity[tune_rows]
unique = np.unique(ids)
rng = np.random.default_rng(0)
first = set(rng.permutation(unique)[: len(unique) // 2].tolist())
halves = [np.flatnonzero([i in first for i in ids]), np.flatnonzero([i not in first for i in ids])]

svm = LinearSVMHead.from_arrays(load_file(str(args.features / "svm.safetensors")))
svm_margin = svm.scores(tune["features"].reshape(-1, 256)).reshape(len(y_tune), 9, -1).mean(1)
anet_fit, anet_tune = fit["features"].mean(1), tune["features"].mean(1)
dlib_fit, dlib_tune = dlib_inputs(fit_rows), dlib_inputs(tune_rows)
results = {"tune_faces": len(y_tune), "halves": [len(h) for h in halves], "fit_faces": len(y_fit),
           "svm (shipped, recalibrated per half)": crossfit(svm_margin, y_tune, halves)}  # fmt: skip
print("svm", results["svm (shipped, recalibrated per half)"]["decisions"], flush=True)
for wd in args.weight_decay:
    t0 = time.perf_counter()
    logits = {"anet": logistic(anet_fit, y_fit, anet_tune, wd), "dlib": logistic(dlib_fit, y_fit, dlib_tune, wd),
              "anet+dlib": logistic(np.concatenate([anet_fit, dlib_fit], 1), y_fit,
                                    np.concatenate([anet_tune, dlib_tune], 1), wd)}  # fmt: skip
    for name, s in logits.items():
        results[f"logistic {name} wd {wd}"] = crossfit(s, y_tune, halves)
    # the SVM margin and the dlib logit on one scale: each standardised on the fit part's spread
    results[f"svm + logistic dlib wd {wd}"] = crossfit(svm_margin / svm_margin.std(0) + logits["dlib"] / logits["dlib"].std(0), y_tune, halves)
    results[f"svm + logistic anet+dlib wd {wd}"] = crossfit(svm_margin / svm_margin.std(0) + logits["anet+dlib"] / logits["anet+dlib"].std(0), y_tune, halves)
    for k, v in results.items():
        if isinstance(v, dict) and f"wd {wd}" in k:
            print(k, v["decisions"], v["p>=0.5"], flush=True)
    print(f"wd {wd}: {time.perf_counter() - t0:.0f} s", flush=True)
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps(results, indent=1))
