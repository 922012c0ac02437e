"""Issue 15, attributes: is a small MLP on ANet's patch features better than the paper's linear
SVMs? Chosen on the tune part of the train partition only (fit_svms' identity-disjoint split).

    python experiments/2026-12-01-attribute-mlp/choose_head.py --run runs/svms-celeba_hq128 \
        --out experiments/2026-12-01-attribute-mlp/choose_head.json

--run: a fit_svms run folder (features-fit.npz, features-tune.npz: ANet's features of the faces as
the predictor crops them from LNet's boxes, with their mirror images; svm.safetensors: the SVMs
fitted on them, C, Platt scaling and thresholds chosen on tune). Each MLP candidate is trained on
fit (BCE, AdamW, fixed epochs), its mean patch logit Platt-scaled per attribute on tune, its
thresholds chosen on tune as the SVMs' are; the table gives tune figures for both.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file

from lnet_anet.anet.svm import LinearSVMHead, _platt_fit
from lnet_anet.metrics.attributes import attribute_metrics

ap = argparse.ArgumentParser()
ap.add_argument("--run", type=Path, required=True)
ap.add_argument("--out", type=Path, required=True)
ap.add_argument("--hidden", type=int, nargs="+", default=[512, 1024])
ap.add_argument("--epochs", type=int, nargs="+", default=[8, 16])
ap.add_argument("--dropout", type=float, default=0.3)
ap.add_argument("--inputs", nargs="+", default=["mean", "patches"], help="the mean patch feature, or each patch")
ap.add_argument("--balance-weights", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.5, 1.0])
ap.add_argument("--accuracy-tolerance", type=float, default=0.005)
args = ap.parse_args()
torch.set_num_threads(2)
fit, tune = (dict(np.load(args.run / f"features-{p}.npz")) for p in ("fit", "tune"))
svm = LinearSVMHead.from_arrays({k: v.astype(np.float64) for k, v in load_file(str(args.run / "svm.safetensors")).items()})
ev = json.loads((args.run / "eval.json").read_text())
y_fit, y_tune = fit["attributes"].astype(np.float32), tune["attributes"]
train_labels = fit["attributes"]
NAMES = [str(k) for k in range(y_tune.shape[1])]


def figures(probs: np.ndarray, decide: np.ndarray) -> dict:
    at = attribute_metrics(decide, y_tune, NAMES, train_labels)
    half = attribute_metrics(probs >= 0.5, y_tune, NAMES, train_labels)
    return {"decisions": [round(at["mean_accuracy"], 4), round(at["mean_balanced_accuracy"], 4)],
            "p>=0.5": [round(half["mean_accuracy"], 4), round(half["mean_balanced_accuracy"], 4)]}


results = {"svm (shipped recipe)": figures(p := svm.average_over_patches(tune["features"]), svm.decide(p))}
print(results)
mean = fit["features"].reshape(-1, fit["features"].shape[-1]).mean(0)
std = fit["features"].reshape(-1, fit["features"].shape[-1]).std(0) + 1e-6
x_fit = torch.from_numpy(((fit["features"] - mean) / std).astype(np.float32))
x_tune = torch.from_numpy(((tune["features"] - mean) / std).astype(np.float32))
for inputs, hidden in [(i, h) for i in args.inputs for h in args.hidden]:
    torch.manual_seed(0)
    d, a = x_fit.shape[-1], y_fit.shape[1]
    net = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Dropout(args.dropout),
                              torch.nn.Linear(hidden, a))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-3)
    total = max(args.epochs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=total * ((len(x_fit) + 255) // 256))
    yf = torch.from_numpy(y_fit)
    t0 = time.time()
    for epoch in range(1, total + 1):
        net.train()
        for batch in torch.randperm(len(x_fit)).split(256):
            xb = x_fit[batch]
            if inputs == "mean":
                logits = net(xb.mean(1))
            else:  # a random half of each face's patches: they are near copies of each other
                logits = net(xb[:, torch.rand(xb.shape[1]).argsort()[: xb.shape[1] // 2]]).mean(1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yf[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if epoch in args.epochs:
            net.eval()
            with torch.no_grad():
                z = torch.cat([net(b.mean(1)) if inputs == "mean" else net(b).mean(1)
                               for b in x_tune.split(1024)]).double().numpy()
            ab = np.array([_platt_fit(z[:, k], y_tune[:, k]) for k in range(a)])
            probs = 1 / (1 + np.exp(-(ab[:, 0] * z + ab[:, 1])))
            head = LinearSVMHead(np.zeros((a, d)), np.zeros(a), np.ones(a), np.zeros(a), np.zeros(d), np.ones(d))
            trials = {}
            for w in args.balance_weights:  # as fit_svms chooses the SVMs' thresholds
                head.choose_thresholds(probs, y_tune, w)
                m = attribute_metrics(head.decide(probs), y_tune, NAMES)
                trials[w] = (m["mean_accuracy"], m["mean_balanced_accuracy"])
            most = max(t[0] for t in trials.values())
            w = max((w for w, t in trials.items() if t[0] >= most - args.accuracy_tolerance), key=lambda w: trials[w][1])
            head.choose_thresholds(probs, y_tune, w)
            name = f"mlp {inputs} h{hidden} e{epoch} (cycle {total})"
            results[name] = figures(probs, head.decide(probs)) | {"balance_weight": w, "train_s": round(time.time() - t0)}
            print(name, results[name], flush=True)
args.out.parent.mkdir(parents=True, exist_ok=True)
args.out.write_text(json.dumps({"command": "python experiments/2026-12-01-attribute-mlp/choose_head.py "
                                + " ".join(f"--{k.replace('_', '-')} " + (" ".join(map(str, v)) if isinstance(v, list) else str(v))
                                           for k, v in vars(args).items()),
                                "svm_balance_weight": ev["svm_balance_weight"]["chosen"], "tune_faces": len(y_tune), "fit_faces": len(y_fit),
                                "results": results}, indent=2, default=str))
