"""The age head's std scale, chosen on the tune part (a diagnostic; README.md, last section).

    python experiments/2026-12-02-age-prior/std_scale.py runs/age-prior/tune.npz --tau 0.25 --out .../std_scale.json

Applies the chosen prior correction (tau, floor 0.1) to capture.py's tune logits and, for each
scale, the share of true ages within mean ± scale * std and ± 2 scale * std, overall and by
band. Rule: the scale whose overall ±1 share is closest to a normal's 0.683.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lnet_anet.dldl.label_distribution import LabelBins, label_prior, prior_corrected

BANDS = {"0-12": (0, 13), "13-59": (13, 60), "60+": (60, 200)}
NORMAL_1SD = 0.6827


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture", type=Path)
    ap.add_argument("--tau", type=float, default=0.25)
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.95, 0.9, 0.85, 0.8, 0.75])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    d = np.load(args.capture)
    values = d["bins"]
    bins = LabelBins(float(values[0]), float(values[-1]), float(values[1] - values[0]))
    pred = prior_corrected(torch.as_tensor(d["logits"]), label_prior(d["train_ages"], bins), args.tau, bins)
    err, std, age = np.abs(pred["mean"].numpy() - d["age"]), pred["std"].numpy(), d["age"]
    table = {}
    for k in args.scales:
        row = {"within_1_std": float((err <= k * std).mean()), "within_2_std": float((err <= 2 * k * std).mean())}
        for name, (lo, hi) in BANDS.items():
            m = (age >= lo) & (age < hi)
            row[name] = {"within_1_std": float((err[m] <= k * std[m]).mean()),
                         "within_2_std": float((err[m] <= 2 * k * std[m]).mean())}
        table[f"{k:g}"] = row
        print(f"scale {k:<5g} within 1 std {row['within_1_std']:.3f} (" + ", ".join(
            f"{b} {row[b]['within_1_std']:.3f}" for b in BANDS) + f"); within 2 std {row['within_2_std']:.3f}")
    chosen = min(table, key=lambda k: abs(table[k]["within_1_std"] - NORMAL_1SD))
    print(f"chosen: {chosen}")
    if args.out:
        args.out.write_text(json.dumps({"capture": str(args.capture), "tau": args.tau, "n": len(age),
                                        "chosen": float(chosen), "scales": table}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
