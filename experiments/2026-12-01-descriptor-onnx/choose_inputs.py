"""Which inputs the descriptor head reads, chosen inside each fold's training part (nested CV).

Candidates: dlib's descriptor alone (the previous record's head), or ANet's feature (the 256-d
feature the attribute SVMs read, L2-normalised to norm sqrt(2), about the descriptor's) joined to
the descriptor. For each outer fold k, the four other folds are split by the same folds (inner
4-fold CV); each candidate head is fitted on three and scored on the fourth; the candidate with
the lower inner RMSE (of the head alone: the bundle head's out-of-fold scores do not exist inside
a training part) is the fold's choice. The outer fold is scored once, for the record.

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/choose_inputs.py --descriptors runs/onnx-desc/scut.npz \
        --features runs/onnx-desc/anet-feats.npz --out experiments/2026-12-01-descriptor-onnx/choose_inputs.json

--features: per SCUT image, the Predictor's ANet feature of its best face and the bundle's fold
head's out-of-fold score (benchmarks/bench_attractiveness.py's FeaturePredictor, the fold runs
runs/scut/e11x16-f{k}), used only to report each outer fold's mixed score.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from scut_folds import metrics, scut_training_list

from lnet_anet.dldl.descriptor import DescriptorHead, joined_inputs

parser = argparse.ArgumentParser()
parser.add_argument("--root", type=Path, default=Path("../shared/datasets/scut_fbp5500_train"))
parser.add_argument("--descriptors", type=Path, required=True)
parser.add_argument("--features", type=Path, required=True)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
torch.set_num_threads(2)

index, names, y, folds = scut_training_list(args.root)
d, a = np.load(args.descriptors), np.load(args.features, allow_pickle=True)  # older files: object names
assert names == [str(n) for n in d["names"]] == [str(n) for n in a["names"]]
inputs = {"descriptor": d["map-int8"], "anet+descriptor": joined_inputs(d["map-int8"], a["feats"])}



record, outer, mixed = {"folds": {}}, np.zeros(len(y)), np.zeros(len(y))
for k in range(1, 6):
    train = np.flatnonzero(folds != k)
    inner = {}
    for name, x in inputs.items():
        pred = np.zeros(len(train))
        for j in set(folds[train].tolist()):
            fit, tune = folds[train] != j, folds[train] == j
            pred[tune] = DescriptorHead.fit(x[train][fit], y[train][fit]).regress(x[train][tune])
        inner[name] = metrics(pred, y[train])
    choice = min(inner, key=lambda n: inner[n]["rmse"])
    test = folds == k
    outer[test] = DescriptorHead.fit(inputs[choice][train], y[train]).regress(inputs[choice][test])
    mixed[test] = 0.5 * a["head_oof"][test] + 0.5 * outer[test]
    record["folds"][k] = {"inner_cv_head_alone": inner, "choice": choice,
                          "outer_head_alone": metrics(outer[test], y[test]), "outer_mixed": metrics(mixed[test], y[test])}
    print(k, record["folds"][k], flush=True)
record["outer_head_alone"] = metrics(outer, y)
record["outer_mixed_0.5_with_bundle_head"] = metrics(mixed, y)
record["note"] = ("cached descriptors and features (diagnostic); the end-to-end figure of the chosen inputs is "
                  "predictor-joint/ (bench_attractiveness.py through Predictor)")
args.out.write_text(json.dumps(record, indent=2))
print(json.dumps({k: v for k, v in record.items() if k != "folds"}, indent=2))
