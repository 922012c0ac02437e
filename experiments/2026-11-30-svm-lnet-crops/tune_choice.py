"""Choose on the tune part (identity-disjoint part of CelebA-HQ train): a bundle's SVMs against
the SVMs a fit_svms run refitted on LNet crops, both on ANet's features of the tune faces' LNet
crops (the run's features-tune.npz).

    PYTHONPATH=. python experiments/2026-11-30-svm-lnet-crops/tune_choice.py RUN [BUNDLE_BEFORE]

BUNDLE_BEFORE: the bundle whose SVMs were shipped before (default: runs/bundles/before-svm-lnet.lnetanet,
the embedded bundle of commit 6e3528a)."""

import json
import sys

import numpy as np
from safetensors.numpy import load_file

from lnet_anet.anet.svm import LinearSVMHead
from lnet_anet.inference.bundle import load_bundle
from lnet_anet.metrics.attributes import attribute_metrics

run = sys.argv[1]
before = sys.argv[2] if len(sys.argv) > 2 else "runs/bundles/before-svm-lnet.lnetanet"
tune = dict(np.load(f"{run}/features-tune.npz"))
x, y = tune["features"], tune["attributes"]
heads = {
    "shipped SVMs (aligned crops)": load_bundle(before).svm,
    "refitted on LNet crops": LinearSVMHead.from_arrays(
        {k: v.astype(np.float64) for k, v in load_file(f"{run}/svm.safetensors").items()}
    ),
}
out = {}
for name, h in heads.items():
    p = h.average_over_patches(x)
    d = attribute_metrics(h.decide(p), y, [str(i) for i in range(y.shape[1])])
    half = attribute_metrics(p >= 0.5, y, [str(i) for i in range(y.shape[1])])
    out[name] = {
        "decisions": [round(d["mean_accuracy"], 4), round(d["mean_balanced_accuracy"], 4)],
        "p>=0.5": [round(half["mean_accuracy"], 4), round(half["mean_balanced_accuracy"], 4)],
    }
    print(
        f"{name:32s} decisions acc/bal {out[name]['decisions']}  p>=0.5 {out[name]['p>=0.5']}  (n {len(y)})"
    )
json.dump(out, open(f"{run}/tune_choice.json", "w"), indent=1)
