"""Tables of the record (issue 17): the teacher on each held-out fold (a diagnostic: the head's
cached-crop predictions and an SVR on dlib's descriptor of the SCUT image), and the distilled
students against the shipped recipe on the same folds.

    PYTHONPATH=. python experiments/2026-12-01-attractiveness-distill/summarize.py --runs runs --out experiments/2026-12-01-attractiveness-distill"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from lnet_anet.metrics.age import regression_metrics

parser = argparse.ArgumentParser()
parser.add_argument("--runs", default="runs")
parser.add_argument("--out", required=True)
args = parser.parse_args()
runs, out = Path(args.runs), Path(args.out)


def metrics(pred, true) -> dict:
    m = regression_metrics(np.asarray(pred), np.asarray(true))
    return {k: round(float(m[k]), 4) for k in ("pearson_r", "mae", "rmse")}


held = []
for k in range(1, 6):
    df = pd.read_csv(runs / "distill" / f"teacher-f{k}-held.csv")
    held.append(df.assign(fold=k, teacher=0.5 * df["head"] + 0.5 * df["svr"]))
held = pd.concat(held, ignore_index=True)
models = {"head": "anet_dldl head, shipped recipe (its held-out predictions)",
          "svr": "RBF SVR on dlib's face descriptor",
          "teacher": "teacher: 0.5 head + 0.5 SVR"}  # fmt: skip
result = {"teacher": {
    "pooled": {m: metrics(held[m], held["true"]) for m in models},
    "folds": {k: {m: metrics(g[m], g["true"]) for m in models} for k, g in held.groupby("fold")},
    "groups": {grp: {m: {"mae": round(float((g[m] - g["true"]).abs().mean()), 4),
                         "bias": round(float((g[m] - g["true"]).mean()), 4)} for m in models} | {"n": len(g)}
               for grp, g in held.groupby(held["image"].str[:2])},
}}  # fmt: skip
students = {}
for k in range(1, 6):
    student = runs / "distill" / f"s-f{k}" / "eval.json"
    if student.exists():
        shipped = json.loads((runs / "scut" / f"e11x16-f{k}" / "eval.json").read_text())
        mine = json.loads(student.read_text())
        students[k] = {name: {m: round(float(r[m]), 4) for m in ("pearson_r", "mae", "rmse")}
                       for name, r in (("distilled", mine), ("shipped_recipe", shipped))}  # fmt: skip
result["students"] = students
(out / "results.json").write_text(json.dumps(result, indent=1))

lines = ["## The teacher on the held-out folds (diagnostic, 3,300 faces, 5 folds)", "",
         "| model | Pearson r | MAE | RMSE |", "|---|---|---|---|"]  # fmt: skip
lines += [f"| {models[m]} | {v['pearson_r']} | {v['mae']} | {v['rmse']} |" for m, v in result["teacher"]["pooled"].items()]
lines += ["", "| fold | head r / MAE | SVR r / MAE | teacher r / MAE / RMSE |", "|---|---|---|---|"]
for k, f in result["teacher"]["folds"].items():
    lines.append(f"| {k} | {f['head']['pearson_r']} / {f['head']['mae']} | {f['svr']['pearson_r']} / {f['svr']['mae']} "
                 f"| {f['teacher']['pearson_r']} / {f['teacher']['mae']} / {f['teacher']['rmse']} |")  # fmt: skip
lines += ["", "| group | n | head MAE / bias | teacher MAE / bias |", "|---|---|---|---|"]
for grp, g in result["teacher"]["groups"].items():
    lines.append(f"| {grp} | {g['n']} | {g['head']['mae']} / {g['head']['bias']:+} | {g['teacher']['mae']} / {g['teacher']['bias']:+} |")
lines += ["", "## Distilled students against the shipped recipe, same folds (each run's held-out fold, cached crops)", "",
          "| fold | distilled r / MAE / RMSE | shipped recipe r / MAE / RMSE |", "|---|---|---|"]  # fmt: skip
for k, s in students.items():
    d, b = s["distilled"], s["shipped_recipe"]
    lines.append(f"| {k} | {d['pearson_r']} / {d['mae']} / {d['rmse']} | {b['pearson_r']} / {b['mae']} / {b['rmse']} |")
(out / "results.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
