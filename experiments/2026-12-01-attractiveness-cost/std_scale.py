"""Section 10: the std beside the opt-in mode's attractiveness. With the descriptor head, each
face's std stayed the bundle head's, while the mixed mean is more accurate. Which factor on it
makes mean +- 1 std cover 68.27% of faces? Chosen by 5-fold CV inside SCUT-FBP5500's training
list, from the per-image scores of benchmarks/bench_attractiveness.py (predictions.csv, out of
fold end to end; the official 40% test list is not used).

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-cost/std_scale.py \
        --predictions runs/attr-std/map-3-centre/predictions.csv --out experiments/2026-12-01-attractiveness-cost/std_scale.json

Per fold k, s_k is the 68.27% quantile of |true - mean| / std over the other four folds' images,
and fold k's images are scored with std * s_k (nested: no image scores the factor it helped
choose). The factor for the shipped head is the quantile over all images.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

COVER = 0.6827  # a Gaussian's share within +- 1 std

parser = argparse.ArgumentParser()
parser.add_argument("--predictions", type=Path, required=True)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
p = pd.read_csv(args.predictions).dropna(subset=["mean", "std"])
z = (p["true"] - p["mean"]).abs() / p["std"]


def coverage(scaled: pd.Series, rows=slice(None)) -> dict:
    return {f"within {m} std": round(float((z[rows] <= m * scaled[rows]).mean()), 4) for m in (1, 2)}


ones = pd.Series(1.0, index=p.index)
nested = pd.Series(np.nan, index=p.index)
factors = {}
for k in sorted(p["fold"].unique()):
    factors[int(k)] = round(float(np.quantile(z[p["fold"] != k], COVER)), 4)
    nested[p["fold"] == k] = factors[int(k)]
record = {"images": len(p), "as before (s = 1)": coverage(ones), "nested (s per fold from the other four)": coverage(nested),
          "factor per fold": factors, "factor on all images (shipped)": round(float(np.quantile(z, COVER)), 4),
          "median std before": round(float(p["std"].median()), 4),
          "by group, nested": {g: coverage(nested, p["group"] == g) for g in sorted(p["group"].unique())},
          "by fold, nested": {int(k): coverage(nested, p["fold"] == k) for k in sorted(p["fold"].unique())}}  # fmt: skip
record["command"] = f"python experiments/2026-12-01-attractiveness-cost/std_scale.py --predictions {args.predictions} --out {args.out}"
args.out.write_text(json.dumps(record, indent=2) + "\n")
print(json.dumps(record, indent=1))
