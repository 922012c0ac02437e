"""RULE.md's choice on tune, and with --make the candidate bundle: the embedded bundle whose `Male`
SVM row (weight, bias, Platt a / b, threshold) is refitted on CelebA-HQ and UTKFace faces
(extract.py's features); the features' standardisation and the other 39 rows stay.

    PYTHONPATH=. python experiments/2026-12-07-male-beyond-celeba/choose.py runs/male/features.npz \
        --out experiments/2026-12-07-male-beyond-celeba/choose.json [--make runs/male/candidate.lnetanet]
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.svm import LinearSVC

from lnet_anet.anet.svm import LinearSVMHead
from lnet_anet.inference.build import _record_build
from lnet_anet.inference.bundle import load_bundle, save_bundle
from lnet_anet.inference.shipped import DEFAULT_BUNDLE

CS = (0.003, 0.03, 0.3)
BALANCE_WEIGHT = 0.3  # the shipped SVMs' (fit_svms' choice)
CELEBA_SLACK = 0.003  # RULE.md: CelebA tune Male accuracy >= shipped - this

parser = argparse.ArgumentParser()
parser.add_argument("features", type=Path)
parser.add_argument("--out", type=Path, required=True)
parser.add_argument("--make", type=Path, default=None, help="write the chosen candidate bundle here")
args = parser.parse_args()
d = np.load(args.features)


def part(name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = d[f"{name}_x"], d[f"{name}_y"]
    keep = ~np.isnan(x[:, 0])  # files with no face found are left out
    return x[keep].astype(np.float64), y[keep]


bundle = load_bundle(DEFAULT_BUNDLE, build_nets=False)
shipped = bundle.svm
m = list(bundle.attributes).index("Male")


def row(head: LinearSVMHead, k: int) -> LinearSVMHead:
    return LinearSVMHead(head.weight[k : k + 1], head.bias[k : k + 1], head.platt_a[k : k + 1], head.platt_b[k : k + 1],
                         head.feature_mean, head.feature_std, head.threshold[k : k + 1])  # fmt: skip


def accuracy(head: LinearSVMHead, x: np.ndarray, y: np.ndarray) -> float:
    return float((head.decide(head.probabilities(x))[:, 0] == y).mean())


(cf_x, cf_y), (uf_x, uf_y) = part("celeba_fit"), part("utk_fit")
(ct_x, ct_y), (ut_x, ut_y) = part("celeba_tune"), part("utk_tune")
fit_x, fit_y = np.concatenate([cf_x, uf_x]), np.concatenate([cf_y, uf_y])
tune_x, tune_y = np.concatenate([ct_x, ut_x]), np.concatenate([ct_y, ut_y])
z = (fit_x - shipped.feature_mean) / shipped.feature_std
base = row(shipped, m)
result = {"n": {"celeba_fit": len(cf_y), "utk_fit": len(uf_y), "celeba_tune": len(ct_y), "utk_tune": len(ut_y)},
          "shipped": {"celeba_tune": accuracy(base, ct_x, ct_y), "utk_tune": accuracy(base, ut_x, ut_y),
                      "utk_tune_women": accuracy(base, ut_x[~ut_y], ut_y[~ut_y]),
                      "utk_tune_men": accuracy(base, ut_x[ut_y], ut_y[ut_y]), "threshold": float(base.threshold[0])},
          "candidates": {}}  # fmt: skip
heads = {}
for c in CS:
    svm = LinearSVC(C=c, max_iter=5000, dual="auto").fit(z, fit_y)
    head = LinearSVMHead(svm.coef_, svm.intercept_, [1.0], [0.0], shipped.feature_mean, shipped.feature_std)
    head.calibrate(tune_x, tune_y[:, None], names=["Male"])
    head.choose_thresholds(head.probabilities(tune_x), tune_y[:, None], BALANCE_WEIGHT)
    heads[c] = head
    result["candidates"][str(c)] = {"celeba_tune": accuracy(head, ct_x, ct_y), "utk_tune": accuracy(head, ut_x, ut_y),
                                    "utk_tune_women": accuracy(head, ut_x[~ut_y], ut_y[~ut_y]),
                                    "utk_tune_men": accuracy(head, ut_x[ut_y], ut_y[ut_y]),
                                    "threshold": float(head.threshold[0])}  # fmt: skip
passing = [c for c in CS if result["candidates"][str(c)]["celeba_tune"] >= result["shipped"]["celeba_tune"] - CELEBA_SLACK]
chosen = max(passing, key=lambda c: (result["candidates"][str(c)]["celeba_tune"] + result["candidates"][str(c)]["utk_tune"]) / 2,
             default=None)  # fmt: skip
result["chosen_C"] = chosen
args.out.write_text(json.dumps(result, indent=2))
print(json.dumps(result, indent=1))
if chosen is None:
    sys.exit("no C passes RULE.md's CelebA tune line: no candidate")
if args.make is not None:
    new, arrays = heads[chosen], shipped.to_arrays()
    for key in ("weight", "bias", "platt_a", "platt_b", "threshold"):
        arrays[key][m] = getattr(new, key)[0]
    full = load_bundle(DEFAULT_BUNDLE)
    config = json.loads(json.dumps({k: v for k, v in full.config.items() if k != "versions"}))
    _record_build(config, DEFAULT_BUNDLE, "python " + " ".join(sys.argv), "the Male SVM row refitted on CelebA-HQ and "
                  "UTKFace faces (experiments/2026-12-07-male-beyond-celeba)", svm_rows={"Male": {"C": chosen}})  # fmt: skip
    parts = {"lnet": full.lnet, "anet": full.anet, "svm": arrays, "age": full.age, "attractiveness": full.attractiveness,
             "heads": {name: full.head(name) for name in full.head_names}}  # fmt: skip
    save_bundle(args.make, {k: v for k, v in parts.items() if v is not None}, config)
    print(f"wrote {args.make}")
