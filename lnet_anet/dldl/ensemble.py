"""Joining finished DLDL runs into one ensemble run folder that the bundle builder takes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from lnet_anet.cli.arguments import output_refusal
from lnet_anet.engine.checkpoint import save_safetensors_atomic
from lnet_anet.engine.runs import write_json, write_regression_report
from lnet_anet.metrics.age import regression_metrics

NEEDED = ("model.json", "model.safetensors", "preprocess.json", "eval.json", "predictions.csv")


def read_member(folder: Path) -> dict:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (give finished DLDL run folders)")
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
            raise ValueError(f"{m['folder']}: its predictions.csv scores other faces than {members[0]['folder']}'s "
                             f"({len(f)} against {len(frames[0])}){_data_differs(members[0]['folder'], m['folder'])}")
    means = np.stack([f["pred"].to_numpy() for f in frames])
    second = np.stack([(f["pred_std"] ** 2 + f["pred"] ** 2).to_numpy() for f in frames])
    out = frames[0].drop(columns=["pred", "pred_std"]).copy()
    out["pred"] = means.mean(0)
    out["pred_std"] = np.sqrt(np.clip(second.mean(0) - out["pred"] ** 2, 0, None))  # the mixture's
    for i, f in enumerate(frames):
        out[f"pred_{i}"] = f["pred"]
    return out.reset_index()


def _data_differs(first: Path, other: Path) -> str:
    """What the two runs' data.json records (the data each was trained and scored on) say
    differently, as "; their data differs: limit 500 -> 2000; train both with the same data settings",
    or "" when the records agree or one is missing (a trial: the error named no cause)."""
    try:
        a, b = (json.loads((Path(f) / "data.json").read_text()) for f in (first, other))
    except (OSError, ValueError):
        return ""
    keys = sorted(k for k in set(a) | set(b) if k != "skipped" and a.get(k) != b.get(k))
    if not keys:
        return ""
    said = ", ".join(f"{k} {json.dumps(a.get(k))} -> {json.dumps(b.get(k))}" for k in keys)
    return f"; their data.json records differ: {said}; train the members on the same data settings"


def check_out(runs: list[Path], out: Path) -> None:
    """Refuse, before anything is read or written, a run given twice, an `out` that is one of the
    runs, and an `out` that holds another run (anything but an earlier ensemble, which is
    replaced). Raises ValueError naming the folder."""
    resolved = [Path(f).resolve() for f in runs]
    twice = next((f for i, f in enumerate(runs) if resolved[i] in resolved[:i]), None)
    if twice is not None:
        raise ValueError(f"{twice} is given twice: an ensemble needs different runs")
    refused = output_refusal(out, {"one of the runs": list(runs)}, kind="folder")  # shared with the bundle writers
    if refused:
        raise ValueError(refused)
    if Path(out).is_dir() and any(Path(out).iterdir()):
        spec = Path(out) / "model.json"
        model = json.loads(spec.read_text()).get("model") if spec.is_file() else None
        if model != "dldl_ensemble":
            raise ValueError(f"--out {out} already holds " + (f"a {model} run" if model else "other files")
                             + ": give a new folder (an earlier ensemble there would be replaced)")  # fmt: skip


def shared_data(members: list[dict]) -> dict | None:
    """The first member's data.json when every member has one naming the same dataset, reader,
    folder and hold-out rule (the files they skipped aside); None otherwise."""
    records = []
    for m in members:
        path = m["folder"] / "data.json"
        records.append(json.loads(path.read_text()) if path.is_file() else None)
    same = lambda d: {k: d.get(k) for k in ("name", "reader", "root", "holdout")}  # noqa: E731
    if all(r is not None for r in records) and all(same(r) == same(records[0]) for r in records):
        return records[0]
    return None


def build_ensemble(runs: list[Path], out: Path) -> dict:
    """Join finished DLDL runs (2 or more, same target, preprocessing and scored split) into
    one `dldl_ensemble` run folder at `out`: model.json, model.safetensors, preprocess.json,
    data.json when the members learnt from the same data (shared_data), and the regression report
    of the averaged distribution on the members' scored faces.
    Returns the metrics. Raises FileNotFoundError / ValueError naming the run that does not fit
    (check_out: the runs and `out` themselves; other targets, preprocessing or scored faces;
    the same weights twice)."""
    if len(runs) < 2:
        raise ValueError("give at least 2 runs")
    check_out(runs, out)
    members = [read_member(Path(f)) for f in runs]
    for key in ("target", "preprocess", "split"):
        differ = [(m["folder"], m[key]) for m in members if m[key] != members[0][key]]
        if differ:
            raise ValueError(f"the runs differ in their {key}: {members[0]['folder']} has {members[0][key]}, "
                             f"{differ[0][0]} has {differ[0][1]}")  # fmt: skip
    preds = join_predictions(members)
    weights = [load_file(str(m["folder"] / "model.safetensors")) for m in members]
    for j in range(1, len(members)):
        for i in range(j):
            if weights[j].keys() == weights[i].keys() and all(torch.equal(weights[j][k], weights[i][k]) for k in weights[j]):
                raise ValueError(f"{members[j]['folder']} holds the same weights as {members[i]['folder']}: an ensemble "
                                 "needs nets that differ (train them with another train.seed, recipe or data)")  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    state = {f"members.{i}.{k}": v for i, w in enumerate(weights) for k, v in w.items()}
    save_safetensors_atomic(state, out / "model.safetensors", {"target": members[0]["target"], "model": "dldl_ensemble"})
    write_json(out / "model.json", {"model": "dldl_ensemble", "kwargs": {"members": [m["spec"] for m in members]}})
    shutil.copy2(members[0]["folder"] / "preprocess.json", out / "preprocess.json")
    data = shared_data(members)
    if data is not None:  # the data every member learnt from: build_bundle --age-prior reads its ages (a trial)
        write_json(out / "data.json", data)
    result = regression_metrics(preds["pred"].to_numpy(), preds["true"].to_numpy(), pred_sigma=preds["pred_std"].to_numpy())
    member_mae = [float(np.abs(m["predictions"]["pred"] - m["predictions"]["true"]).mean()) for m in members]
    result |= {"members": [str(m["folder"]) for m in members], "member_mae": member_mae, "split": members[0]["split"]}
    # preds carry the members' gender / race / image columns already: nothing more to join
    write_regression_report(out, preds, preds.set_index("index")[[]], members[0]["split"], members[0]["target"], result)
    return result
