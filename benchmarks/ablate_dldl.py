"""DLDL-v2 loss ablations on ANet's features (issue 5): KL only, L1 only, KL + L1, and several
label-distribution sigmas, each a `train_dldl_head` run that reuses the cached features of a
finished run (nothing but the head is trained).

    python benchmarks/ablate_dldl.py --base runs/age-anet-utkface128
Writes experiments/<date>-dldl-ablation/results.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from lnet_anet.data import runs_root
from lnet_anet.engine.runs import machine

VARIANTS = {
    "KL + L1, sigma 2 (DLDL-v2)": [],
    "KL only": ["loss.use_l1=false"],
    "L1 only": ["loss.use_kl=false"],
    "KL + L1, sigma 1": ["data.sigma=1.0"],
    "KL + L1, sigma 3": ["data.sigma=3.0"],
    "KL + L1, sigma 5": ["data.sigma=5.0"],
}
KEYS = ("mae", "rmse", "pearson_r", "cs_5", "epsilon_error")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, default=runs_root() / "age-anet-utkface128")
    ap.add_argument("--runs", type=Path, default=runs_root())
    args = ap.parse_args(argv)
    if not (args.base / "features-train.npz").exists():
        sys.exit(f"{args.base}: no cached features; run `python -m lnet_anet.cli.train_dldl_head` first")
    base_cfg = (args.base / ".hydra" / "overrides.yaml").read_text() if (args.base / ".hydra").exists() else ""
    rows = {}
    for i, (label, overrides) in enumerate(VARIANTS.items()):
        name = f"dldl-ablation-{i}"
        cmd = [sys.executable, "-m", "lnet_anet.cli.train_dldl_head", f"name={name}", f"features_from={args.base}",
               "train.progress=false", *overrides]  # fmt: skip
        if not (args.runs / name / "eval.json").exists():  # a finished variant is not retrained
            print(" ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
        result = json.loads((args.runs / name / "eval.json").read_text())
        rows[label] = {"overrides": overrides, **{k: result.get(k) for k in KEYS}}

    out = Path(__file__).resolve().parents[1] / "experiments" / f"{dt.date.today().isoformat()}-dldl-ablation"
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/ablate_dldl.py --base " + str(args.base)
    (out / "results.json").write_text(json.dumps({"command": command, "base_overrides": base_cfg, "rows": rows,
                                                  "machine": machine()}, indent=2))  # fmt: skip
    lines = [f"# DLDL-v2 loss ablations ({dt.date.today()})", "", f"Command: `{command}`  ",
             "Data: UTKFace 128 px, the fixed 20% hold-out; the head is trained on ANet's patch-averaged "
             "features of the other 80% (features cached once).", "",
             "| loss | MAE | RMSE | Pearson | CS(5) | epsilon-error (needs per-face sigma: ChaLearn) |", "|---|---|---|---|---|---|"]  # fmt: skip
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    lines += [f"| {label} | " + " | ".join(fmt(r[k]) for k in KEYS) + " |" for label, r in rows.items()]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print((out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
