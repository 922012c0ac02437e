"""Diagnostic (issue 17, session 9; run from the repository root: PYTHONPATH=. python experiments/2026-11-30-attractiveness-scut/session9/blend_diagnostic.py): does ANet's feature (and the age net's prediction) add to the head's CV prediction?"""

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LinearRegression, RidgeCV

from lnet_anet.dldl.training import FromTrunkMaps
from lnet_anet.inference.bundle import load_bundle
from lnet_anet.metrics.age import regression_metrics

torch.set_num_threads(1)
b = load_bundle("lnet_anet/assets/default.lnetanet")
cache = np.load("runs/scut-trunk-e11/stage3-all-160.npz")
x = torch.from_numpy(cache["maps"]).float()
with torch.no_grad():
    feats = torch.cat(
        [
            b.anet.dense_features_from_trunk(x[i : i + 128], 16, stage=3).mean((1, 2))
            for i in range(0, len(x), 128)
        ]
    ).numpy()
    age = torch.cat(
        [
            b.age.head.predict(FromTrunkMaps(b.age, 3, dense=True)(x[i : i + 128])["logits"])[
                "mean"
            ]
            for i in range(0, len(x), 128)
        ]
    ).numpy()
    attr = b.anet.attribute_head(torch.from_numpy(feats)).numpy()
pos = {int(r): i for i, r in enumerate(cache["index"])}
frames = []
for k in range(1, 6):
    df = pd.read_csv(f"runs/scut/e11x16-f{k}/predictions.csv")
    df["fold"] = k
    frames.append(df)
df = pd.concat(frames).reset_index(drop=True)
rows = np.array([pos[int(i)] for i in df["index"]])
F, A, L = feats[rows], age[rows], attr[rows]
y, head, fold = df["true"].to_numpy(), df["pred"].to_numpy(), df["fold"].to_numpy()
oof = np.zeros(len(y))
oofa = np.zeros(len(y))
for k in range(1, 6):
    tr, te = fold != k, fold == k
    oof[te] = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(F[tr], y[tr]).predict(F[te])
    Z = np.c_[L, A]
    oofa[te] = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(Z[tr], y[tr]).predict(Z[te])
print("age-attr corr", np.corrcoef(A, y)[0, 1])
for name, p in (("head", head), ("ridge ANet feature", oof), ("ridge attr logits+age", oofa)):
    m = regression_metrics(p, y)
    print(f"{name:28s} r {m['pearson_r']:.4f} MAE {m['mae']:.4f}")
# blend weights fitted on the other folds (the weight of the ridge prediction), scored on each fold
for name, other in (("head+ridgeF", oof), ("head+ridge attr/age", oofa)):
    out = np.zeros(len(y))
    for k in range(1, 6):
        tr, te = fold != k, fold == k
        lr = LinearRegression().fit(np.c_[head[tr], other[tr]], y[tr])
        out[te] = lr.predict(np.c_[head[te], other[te]])
    m = regression_metrics(out, y)
    print(f"{name:28s} r {m['pearson_r']:.4f} MAE {m['mae']:.4f} RMSE {m['rmse']:.4f} w {lr.coef_}")
