"""Diagnostic for issue 15 (not shipped): does dlib's descriptor, joined to ANet's feature, help age
on UTKFace chips as shipped?

    PYTHONPATH=. python experiments/2026-12-01-descriptor-onnx/age_diagnostic.py 6000 > experiments/2026-12-01-descriptor-onnx/age_diagnostic.log

Train part (utkface.yaml's 80%): 6,000 seeded chips -> Predictor (the best face): ANet's feature
and the int8 descriptor of its box; a DLDL age head (feature_dldl over 0..116 in steps of 1,
sigma 2, 60 epochs; fixed, not tuned) on them. Val part: the 1,500 chips of the end-to-end bench
(seed 0) -> the bundle's age (end to end) and the head's, mixed 0.5 / 0.5. Val scored once."""
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, "benchmarks")
sys.path.insert(0, str(Path(__file__).parent))
from bench_default import data_cfg
from best_faces import best_face_rows

from lnet_anet.data.from_config import build_index, split_of
from lnet_anet.dldl.descriptor import FaceDescriptor, joined_inputs
from lnet_anet.dldl.training import dldl_loss_fn
from lnet_anet.inference.predictor import Predictor
from lnet_anet.models.registry import create_model

torch.set_num_threads(2)
D = Path("../shared/datasets")
utk = build_index(data_cfg("utkface", D))
train = split_of(utk, "train").sample(n=int(sys.argv[1]), random_state=1).reset_index(drop=True)
val = split_of(utk, "val").reset_index(drop=True).sample(n=1500, random_state=0).reset_index(drop=True)
pred, desc = Predictor.load(), FaceDescriptor()
def run(df, name):
    """Per chip with a face: ANet's feature, the descriptor, the bundle's age, the true age (cached)."""
    return best_face_rows(pred, desc, df, Path(f"runs/age-desc/{name}.npz"),
                          lambda face, i: {"A": face["age"]["mean"], "Y": float(df["age"][i])})


def fit(x, y, epochs=60, seed=0):
    torch.manual_seed(seed)
    net = create_model("feature_dldl", in_features=x.shape[1], low=0.0, high=116.0, step=1.0)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    xs, ys = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    net.train()
    for _ in range(epochs):
        for b in torch.randperm(len(xs)).split(128):
            loss, _ = dldl_loss_fn(net, {"image": xs[b], "age": ys[b]}, target="age", sigma=2.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def mae(p, y):
    return round(float(np.abs(p - y).mean()), 3)


tr, va = run(train, f"train{len(train)}"), run(val, "val1500")
res = {"train_faces": len(tr["Y"]), "val_faces": len(va["Y"]), "bundle_age_mae": mae(va["A"], va["Y"])}
inputs = {"descriptor": (tr["D"], va["D"]),
          "anet+descriptor": (joined_inputs(tr["D"], tr["F"]), joined_inputs(va["D"], va["F"]))}
for name, (xt, xv) in inputs.items():
    net = fit(xt, tr["Y"])
    with torch.no_grad():
        p = net.predict(torch.tensor(xv, dtype=torch.float32))["mean"].numpy()
    res[name] = {"alone": mae(p, va["Y"]), "mix_0.5": mae(0.5 * p + 0.5 * va["A"], va["Y"])}
    for lo, hi in ((0, 13), (60, 117)):
        m = (va["Y"] >= lo) & (va["Y"] < hi)
        res[name][f"mix_{lo}-{hi - 1}"] = mae(0.5 * p[m] + 0.5 * va["A"][m], va["Y"][m])
        res[f"bundle_{lo}-{hi - 1}"] = mae(va["A"][m], va["Y"][m])
print(json.dumps(res, indent=1))
