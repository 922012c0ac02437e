"""Diagnostic for issue 15 (not shipped): do dlib's descriptor and ANet's feature together, read by
one logistic regression per attribute, add to the bundle's attribute probabilities?

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/attributes_diagnostic.py 5000 > experiments/2026-12-01-descriptor-onnx/attributes_diagnostic.json

Train: N seeded celeba_hq128 train-partition files -> Predictor (the best face): ANet's feature,
the int8 descriptor of its box. Val: the end-to-end bench's 1,500 val files (seed 0), the same,
plus the bundle's probabilities. Per attribute a logistic regression (C 1, fixed) on the joint
input; its probability averaged 0.5 / 0.5 with the bundle's; accuracy at p >= 0.5 (the rule a
user of the JSON has), val scored once."""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, "benchmarks")
sys.path.insert(0, str(Path(__file__).parent))
from bench_default import data_cfg
from best_faces import best_face_rows

from lnet_anet.data.from_config import build_index, split_of
from lnet_anet.dldl.descriptor import FaceDescriptor, joined_inputs
from lnet_anet.inference.predictor import Predictor

torch.set_num_threads(2)
index = build_index(data_cfg("celeba_hq", Path("../shared/datasets")))
pred, desc = Predictor.load(), FaceDescriptor()
names = pred.bundle.attributes
train = split_of(index, "train").sample(n=int(sys.argv[1]), random_state=1).reset_index(drop=True)
val = split_of(index, "val").sample(n=1500, random_state=0).reset_index(drop=True)


def run(df, name):
    """Per file with a face: ANet's feature, the descriptor, the bundle's probabilities, the labels."""
    return best_face_rows(pred, desc, df, Path(f"runs/attr-desc/{name}.npz"),
                          lambda face, i: {"P": [face["attributes"][n] for n in names],
                                           "Y": df.loc[i, names].to_numpy(float)})  # fmt: skip


def scores(prob, y):
    yes = prob >= 0.5
    acc = (yes == (y > 0)).mean(0)
    pos, neg = (y > 0), (y <= 0)
    tpr = (yes & pos).sum(0) / np.maximum(pos.sum(0), 1)
    tnr = (~yes & neg).sum(0) / np.maximum(neg.sum(0), 1)
    return {"mean_accuracy": round(float(acc.mean()), 4), "mean_balanced_accuracy": round(float(((tpr + tnr) / 2).mean()), 4)}


tr, va = run(train, f"train{len(train)}"), run(val, "val1500")
res = {"train_faces": len(tr["Y"]), "val_faces": len(va["Y"]), "bundle": scores(va["P"], va["Y"])}
for name, (xt, xv) in {"descriptor": (tr["D"], va["D"]),
                       "anet+descriptor": (joined_inputs(tr["D"], tr["F"]), joined_inputs(va["D"], va["F"]))}.items():
    scale = StandardScaler().fit(xt)
    prob = np.stack([LogisticRegression(C=1.0, max_iter=2000).fit(scale.transform(xt), tr["Y"][:, j] > 0)
                     .predict_proba(scale.transform(xv))[:, 1] for j in range(len(names))], axis=1)  # fmt: skip
    res[name] = {"alone": scores(prob, va["Y"]), "mix_0.5": scores(0.5 * prob + 0.5 * va["P"], va["Y"])}
print(json.dumps(res, indent=1))
