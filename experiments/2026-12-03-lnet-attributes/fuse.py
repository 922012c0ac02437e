"""Diagnostic / choice (issue 15; tune part of celeba_hq128 train only, val not read): does LNet's
own attribute evidence (lnet_features.py) add to the shipped SVMs' end-to-end probabilities
(predictions.py)? The tune part is split in two by identity; each candidate's mixing weights,
calibration and decision thresholds are fitted on one half and scored on the other, both ways
(cross-fitting), the thresholds by fit_svms' rule (the best balanced accuracy within 0.005 of the
best accuracy over balance weights 0-1).

Candidates, each a per-attribute logistic regression (its output is the probability):
- svm: logit of the SVM's probability alone (the shipped recipe recalibrated per half: Platt);
- lnet region s / crop: LNet's logit alone;
- svm + lnet X: the two logits of the same attribute, two weights and a bias per attribute;
- svm + lnet X (all 40): the SVM logit of the attribute and all 40 LNet logits, L2-penalised.

    PYTHONPATH=. python experiments/2026-12-03-lnet-attributes/fuse.py --pred runs/attr-lnet/pred-tune.npz \
        --lnet runs/attr-lnet/lnet-tune.npz --out experiments/2026-12-03-lnet-attributes/fuse-tune.json
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lnet_anet.anet.svm import LinearSVMHead

parser = argparse.ArgumentParser()
parser.add_argument("--pred", type=Path, required=True)
parser.add_argument("--lnet", type=Path, required=True)
parser.add_argument("--weight-decay", type=float, nargs="+", default=[1e-3, 1e-2])
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

pred, lnet = np.load(args.pred), np.load(args.lnet)
assert (pred["rows"] == lnet["rows"]).all(), "the two captures are of different faces"
found = ~np.isnan(pred["probabilities"][:, 0])
p = np.clip(pred["probabilities"][found].astype(np.float64), 1e-6, 1 - 1e-6)
y = pred["labels"][found].astype(np.float64)
svm = np.log(p / (1 - p))
region, crop = lnet["region"][found].astype(np.float64), lnet["crop"][found].astype(np.float64)
ids = pred["identity"][found]
unique = np.unique(ids)
first = set(np.random.default_rng(0).permutation(unique)[: len(unique) // 2].tolist())
halves = [np.flatnonzero([i in first for i in ids]), np.flatnonzero([i not in first for i in ids])]
n_attr = y.shape[1]


def accuracy(decided: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    truth = truth.astype(bool)
    acc = (decided == truth).mean(0)
    tpr = (decided & truth).sum(0) / np.maximum(truth.sum(0), 1)
    tnr = (~decided & ~truth).sum(0) / np.maximum((~truth).sum(0), 1)
    return float(acc.mean()), float(((tpr + tnr) / 2).mean())


def fit_logistic(x: np.ndarray, t: np.ndarray, wd: float, penalise_from: int = 0):
    """Per-attribute logistic regression: x (N, A, d) -> logits (N, A); the weights from index
    `penalise_from` on get the L2 penalty. Returns a function of x."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    xt, tt = torch.from_numpy((x - mean) / std), torch.from_numpy(t)
    w = torch.zeros(x.shape[1], x.shape[2], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=200, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        logits = (xt * w).sum(-1) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, tt, reduction="sum") / len(tt)
        loss = loss + wd * w[:, penalise_from:].pow(2).sum() / 2
        loss.backward()
        return loss

    opt.step(closure)
    w, b = w.detach().numpy(), b.detach().numpy()
    return lambda other: (((other - mean) / std) * w).sum(-1) + b


def crossfit(x: np.ndarray, wd: float = 0.0, penalise_from: int = 0) -> dict:
    results = []
    for a, b in (halves, halves[::-1]):
        model = fit_logistic(x[a], y[a], wd, penalise_from)
        pa, pb = (1 / (1 + np.exp(-model(x[h]))) for h in (a, b))
        head = LinearSVMHead(np.eye(n_attr), np.zeros(n_attr), np.ones(n_attr), np.zeros(n_attr), np.zeros(n_attr),
                             np.ones(n_attr))  # fmt: skip
        options = []
        for bw in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0):
            head.choose_thresholds(pa, y[a], bw)
            options.append((bw, accuracy(pa >= head.threshold, y[a]), head.threshold.copy()))
        best = max(o[1][0] for o in options)
        bw, _, threshold = max((o for o in options if o[1][0] >= best - 0.005), key=lambda o: o[1][1])
        results.append({"decisions": accuracy(pb >= threshold, y[b]), "p>=0.5": accuracy(pb >= 0.5, y[b]),
                        "balance_weight": bw})  # fmt: skip
    return {"decisions": np.mean([r["decisions"] for r in results], 0).round(4).tolist(),
            "p>=0.5": np.mean([r["p>=0.5"] for r in results], 0).round(4).tolist(), "per_half": results}


results = {"tune_files": int(len(found)), "faces_found": int(found.sum()), "halves": [len(h) for h in halves],
           "shipped (bundle thresholds, in-sample on tune)": {
               "decisions": np.round(accuracy(p >= pred["thresholds"], y), 4).tolist(),
               "p>=0.5": np.round(accuracy(p >= 0.5, y), 4).tolist()}}  # fmt: skip
results["svm"] = crossfit(svm[..., None])
readings = {f"lnet region {s:g}": region[:, k] for k, s in enumerate(lnet["scales"])}
readings["lnet region mean"] = region.mean(1)
readings["lnet crop"] = crop
for name, r in readings.items():
    results[name] = crossfit(r[..., None])
    results[f"svm + {name}"] = crossfit(np.stack([svm, r], -1))
    for wd in args.weight_decay:
        x = np.concatenate([svm[..., None], np.broadcast_to(r[:, None, :], (len(r), n_attr, n_attr))], -1)
        results[f"svm + {name} (all 40) wd {wd}"] = crossfit(x, wd, penalise_from=1)
for k, v in results.items():
    if isinstance(v, dict) and "decisions" in v:
        print(f"{k:45s} decisions {v['decisions']}  p>=0.5 {v['p>=0.5']}", flush=True)
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps(results, indent=1))
