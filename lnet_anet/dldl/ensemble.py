"""Joining finished DLDL runs into one ensemble run folder that the bundle builder takes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors import safe_open
from safetensors.torch import load_file

from lnet_anet.engine.checkpoint import save_safetensors_atomic
from lnet_anet.engine.runs import write_json, write_regression_report
from lnet_anet.metrics.age import regression_metrics

NEEDED = ("model.json", "model.safetensors", "preprocess.json", "eval.json", "predictions.csv")


def read_member(folder: Path) -> dict:
    for name in NEEDED:
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder / name}: not found; is {folder} a finished DLDL run (scored by this version)?")
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        target = (f.metadata() or {}).get("target")
    return {"folder": folder, "spec": json.loads((folder / "model.json").read_text()), "target": target,
            "preprocess": json.loads((folder / "preprocess.json").read_text()),
            "split": json.loads((folder / "eval.json").read_text())["split"],
            "predictions": pd.read_csv(folder / "predictions.csv")}  # fmt: skip


def join_predictions(members: list[dict]) -> pd.DataFrame:
    """One row per face: the mean distribution's expectation ("pred") and spread ("pred_std"),
    from the members' rows on the same faces."""
    frames = [m["predictions"].set_index("index").sort_index() for m in members]
    for m, f in zip(members[1:], frames[1:], strict=True):
        if not f.index.equals(frames[0].index) or not np.allclose(f["true"], frames[0]["true"]):
            raise ValueError(f"{m['folder']}: its predictions.csv scores other faces than {members[0]['folder']}'s")
    means = np.stack([f["pred"].to_numpy() for f in frames])
    second = np.stack([(f["pred_std"] ** 2 + f["pred"] ** 2).to_numpy() for f in frames])
    out = frames[0].drop(columns=["pred", "pred_std"]).copy()
    out["pred"] = means.mean(0)
    out["pred_std"] = np.sqrt(np.clip(second.mean(0) - out["pred"] ** 2, 0, None))  # the mixture's
    for i, f in enumerate(frames):
        out[f"pred_{i}"] = f["pred"]
    return out.reset_index()


def build_ensemble(runs: list[Path], out: Path) -> dict:
    """Join finished DLDL runs (2 or more, same target, preprocessing and scored split) into
    one `dldl_ensemble` run folder at `out`: model.json, model.safetensors, preprocess.json and
    the regression report of the averaged distribution on the members' scored faces.
    Returns the metrics. Raises FileNotFoundError / ValueError naming the run that does not fit."""
    if len(runs) < 2:
        raise ValueError("give at least 2 runs")
    members = [read_member(Path(f)) for f in runs]
    for key in ("target", "preprocess", "split"):
        if any(m[key] != members[0][key] for m in members[1:]):
            raise ValueError(f"the runs differ in their {key}: {[m[key] for m in members]}")
    preds = join_predictions(members)
    out.mkdir(parents=True, exist_ok=True)
    state = {f"members.{i}.{k}": v for i, m in enumerate(members) for k, v in load_file(str(m["folder"] / "model.safetensors")).items()}
    save_safetensors_atomic(state, out / "model.safetensors", {"target": members[0]["target"], "model": "dldl_ensemble"})
    write_json(out / "model.json", {"model": "dldl_ensemble", "kwargs": {"members": [m["spec"] for m in members]}})
    shutil.copy2(members[0]["folder"] / "preprocess.json", out / "preprocess.json")
    result = regression_metrics(preds["pred"].to_numpy(), preds["true"].to_numpy(), pred_sigma=preds["pred_std"].to_numpy())
    member_mae = [float(np.abs(m["predictions"]["pred"] - m["predictions"]["true"]).mean()) for m in members]
    result |= {"members": [str(m["folder"]) for m in members], "member_mae": member_mae, "split": members[0]["split"]}
    # preds carry the members' gender / race / image columns already: nothing more to join
    write_regression_report(out, preds, preds.set_index("index")[[]], members[0]["split"], members[0]["target"], result)
    return result
