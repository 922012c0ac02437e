"""Can a descriptor head stand alone, so that the bundle's attractiveness branch need not run?
(Cached diagnostic; nested CV inside the 3,300, as choose_inputs.py in ../2026-12-01-descriptor-onnx.)

The shipped opt-in score mixes the bundle head (ANet's layers fine-tuned for the score: ~1.7 ms per
face in the face graph) 0.5 / 0.5 with the joint descriptor head. Candidates for a head alone
(weight 1: the branch is skipped), all DLDL-v2 `feature_dldl` heads (DescriptorHead.fit, fixed
recipe: 60 epochs, sigma 0.3):
  joint        [ANet's mean feature, L2-normed to sqrt(2); descriptor] (the shipped head's input)
  patches      [ANet's P patch features, each L2-normed to sqrt(2 / P); descriptor]
  joint x3 / patches x3   the average of 3 heads of seeds 0, 1, 2
For each outer fold k, inner 4-fold CV over the other folds picks the candidate of lowest inner
RMSE; the outer fold is scored once. Beside it, in the same script, the shipped mix (the bundle
fold head's out-of-fold score and the joint head, 0.5 / 0.5) on the same outer folds.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/cost_choice.py --cache runs/cost/scut-cache.npz \
        --out experiments/2026-12-01-attractiveness-cost/cost_choice.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-01-descriptor-onnx"))
from scut_folds import metrics, scut_training_list  # noqa: E402

from lnet_anet.dldl.descriptor import DescriptorHead, joined_inputs  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--cache", type=Path, required=True)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, y, folds = scut_training_list(args.root)
z = np.load(args.cache)
assert names == [str(n) for n in z["names"]]
ok = np.isfinite(z["head_oof"])
desc, patches, head_oof = z["descriptors"], z["patches"], z["head_oof"]
p = patches.shape[1]
unit = patches / np.maximum(np.linalg.norm(patches, axis=2, keepdims=True), 1e-12) * np.sqrt(2 / p)
inputs = {"joint": joined_inputs(desc, patches.mean(1)),
          "patches": np.concatenate([unit.reshape(len(unit), -1), desc], axis=1)}
candidates = {"joint": ("joint", 1), "patches": ("patches", 1), "joint x3": ("joint", 3), "patches x3": ("patches", 3)}


def fit_predict(name: str, fit: np.ndarray, score: np.ndarray) -> np.ndarray:
    key, seeds = candidates[name]
    x = inputs[key]
    heads = [DescriptorHead.fit(x[fit], y[fit], seed=s) for s in range(seeds)]
    return np.mean([h.regress(x[score]) for h in heads], axis=0)


record = {"faces": int(ok.sum()), "patches": p, "folds": {}}
chosen_pred, mixed_pred, joint_pred = np.full(len(y), np.nan), np.full(len(y), np.nan), np.full(len(y), np.nan)
for k in range(1, 6):
    train = np.flatnonzero((folds != k) & ok)
    test = np.flatnonzero((folds == k) & ok)
    inner = {}
    for name in candidates:
        pred = np.zeros(len(train))
        for j in sorted(set(folds[train].tolist())):
            fit, tune = train[folds[train] != j], folds[train] == j
            pred[tune] = fit_predict(name, fit, train[tune])
        inner[name] = metrics(pred, y[train])
    choice = min(inner, key=lambda c: inner[c]["rmse"])
    chosen_pred[test] = fit_predict(choice, train, test)
    joint_pred[test] = fit_predict("joint", train, test)
    mixed_pred[test] = np.clip(0.5 * head_oof[test] + 0.5 * joint_pred[test], 1, 5)
    record["folds"][k] = {"inner": inner, "chosen": choice, "outer_chosen": metrics(chosen_pred[test], y[test])}
    print(k, choice, json.dumps(inner), flush=True)
sel = np.isfinite(chosen_pred)
record["outer"] = {"chosen head alone (no bundle branch)": metrics(chosen_pred[sel], y[sel]),
                   "joint head alone": metrics(joint_pred[sel], y[sel]),
                   "shipped mix: bundle fold head 0.5 + joint head 0.5": metrics(mixed_pred[sel], y[sel]),
                   "bundle fold head alone": metrics(head_oof[sel], y[sel])}
args.out.write_text(json.dumps(record, indent=2))
print(json.dumps(record["outer"], indent=2))
