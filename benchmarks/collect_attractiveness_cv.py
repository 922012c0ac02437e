"""Pool the k-fold runs of attractiveness settings into one table (the settings' choice and the
ablations): each run's predictions.csv holds its scored fold (the run's own evaluation on the
cached crops of LNet's boxes, not through Predictor: that is bench_attractiveness.py).

    python benchmarks/collect_attractiveness_cv.py --out experiments/2026-11-30-attractiveness-scut/cv \
        'head KL+L1 sigma 0.3=runs/attr-head-f{k}' 'head KL only=runs/attr-head-kl-f{k}' ...

Each argument is LABEL=PATTERN with {k} for the fold, or LABEL=PATTERN@1,2 for those folds
only; folds that have no run are listed as missing, and the pooled figures are over the folds
present.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lnet_anet.metrics.age import regression_metrics  # noqa: E402


def collect(pattern: str, folds: int, only: list[int] | None = None) -> tuple[dict, list[int]]:
    frames, missing, per_fold = [], [], {}
    for k in only or range(1, folds + 1):
        path = Path(pattern.format(k=k)) / "predictions.csv"
        if not path.exists():
            missing.append(k)
            continue
        df = pd.read_csv(path)
        frames.append(df)
        m = regression_metrics(df["pred"], df["true"])
        per_fold[k] = {key: round(float(m[key]), 4) for key in ("n", "pearson_r", "mae", "rmse")}
    if not frames:
        return {"missing": missing}, missing
    pooled = pd.concat(frames)
    m = regression_metrics(pooled["pred"], pooled["true"])
    out = {key: round(float(m[key]), 4) for key in ("n", "pearson_r", "mae", "rmse")}
    out["folds"] = sorted(per_fold)
    out["per_fold"] = per_fold
    out["fold_mae_std"] = round(float(np.std([v["mae"] for v in per_fold.values()])), 4)
    return out, missing


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("settings", nargs="+", help="LABEL=PATTERN with {k}")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    rows = {}
    for item in args.settings:
        label, _, pattern = item.partition("=")
        pattern, _, only = pattern.partition("@")
        folds = [int(k) for k in only.split(",")] if only else None
        rows[label] = {"pattern": pattern, **collect(pattern, args.folds, folds)[0]}
    lines = ["| setting | folds | faces | Pearson r | MAE | RMSE | MAE std over folds |", "|---|---|---|---|---|---|---|"]
    for label, r in rows.items():
        if "mae" not in r:
            lines.append(f"| {label} | none | | | | | |")
            continue
        lines.append(f"| {label} | {','.join(map(str, r['folds']))} | {r['n']:.0f} | {r['pearson_r']:.4f} | "
                     f"{r['mae']:.4f} | {r['rmse']:.4f} | {r['fold_mae_std']:.4f} |")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cv.json").write_text(json.dumps(rows, indent=2))
    (args.out / "cv.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
