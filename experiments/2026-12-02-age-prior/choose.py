"""The label-prior correction's strength, chosen on a tune part (a diagnostic; see README.md).

    python experiments/2026-12-02-age-prior/choose.py runs/age-prior/tune.npz --out .../choose.json

Reads capture.py's logits of the top face of each chip and scores, for each strength tau, the age
read from softmax(logits - tau * log prior): prior = the training labels' mean DLDL target
distribution (their discretised Gaussians, sigma 2), floored at FLOOR / bins (lnet_anet.dldl.
label_distribution.label_prior). tau = 0 is the net as trained; tau = 1 divides the training
prior out entirely (Balanced MSE, Ren et al., CVPR 2022; logit adjustment, Menon et al., ICLR 2021).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lnet_anet.dldl.label_distribution import LabelBins, label_prior, prior_corrected

BANDS = {"0-12": (0, 13), "13-29": (13, 30), "30-44": (30, 45), "45-59": (45, 60), "60+": (60, 200)}
ISSUE_BANDS = {"0-12": (0, 13), "13-59": (13, 60), "60+": (60, 200)}  # issue 15's bands (bench_end_to_end)


def scores(mean: np.ndarray, std: np.ndarray, age: np.ndarray) -> dict:
    err = mean - age
    out = {"mae": float(np.abs(err).mean()), "bias": float(err.mean()),
           "within_1_std": float((np.abs(err) <= std).mean()), "within_2_std": float((np.abs(err) <= 2 * std).mean())}
    for name, (lo, hi) in {**BANDS, **ISSUE_BANDS}.items():
        m = (age >= lo) & (age < hi)
        out[name] = {"n": int(m.sum()), "mae": float(np.abs(err[m]).mean()), "bias": float(err[m].mean()),
                     "within_1_std": float((np.abs(err[m]) <= std[m]).mean())}
    out["band_mae"] = float(np.mean([out[b]["mae"] for b in ISSUE_BANDS]))  # the issue's bands weigh alike
    out["max_abs_band_bias"] = float(max(abs(out[b]["bias"]) for b in BANDS))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture", type=Path)
    ap.add_argument("--taus", type=float, nargs="+", default=[0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    ap.add_argument("--floors", type=float, nargs="+", default=[0.1])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    d = np.load(args.capture)
    values = torch.as_tensor(d["bins"], dtype=torch.float32)
    bins = LabelBins(float(values[0]), float(values[-1]), float(values[1] - values[0]))
    logits, age = torch.as_tensor(d["logits"]), d["age"]
    table = {}
    for floor in args.floors:
        prior = label_prior(torch.as_tensor(d["train_ages"]), bins, floor=floor)
        for tau in args.taus:
            pred = prior_corrected(logits, prior, tau, bins)
            table[f"tau={tau:g} floor={floor:g}"] = scores(pred["mean"].numpy(), pred["std"].numpy(), age)
    cols = ["mae", "band_mae", "max_abs_band_bias", "within_1_std"]
    print(f"{len(age)} chips ({int(d['no_face'])} without a face left out)")
    print("setting".ljust(22) + "".join(c.rjust(18) for c in cols) + "".join(f"{b} MAE (bias)".rjust(18) for b in BANDS))
    for name, s in table.items():
        print(name.ljust(22) + "".join(f"{s[c]:18.3f}" for c in cols)
              + "".join(f"{s[b]['mae']:9.2f} ({s[b]['bias']:+.2f})".rjust(18) for b in BANDS))
    if args.out:
        args.out.write_text(json.dumps({"capture": str(args.capture), "n": len(age), "no_face": int(d["no_face"]),
                                        "settings": table}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
