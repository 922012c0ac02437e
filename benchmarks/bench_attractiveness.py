"""Attractiveness on SCUT-FBP5500: k-fold cross-validation end to end through `Predictor`.

    python benchmarks/bench_attractiveness.py --runs 'runs/attractiveness-anetdldl-fold{k}' \
        [--base lnet_anet/assets/default.lnetanet] [--root ../shared/datasets/scut_fbp5500_train] \
        [--folds 5] [--seed 0] [--paste 300] [--threads 1] [--out runs/bench-attractiveness]

For each fold k the head trained on the other folds (--runs, `{k}` replaced; train_anet_dldl
with data.fold='{k: K, n: 5, seed: 0}') is put into the base bundle (build_bundle --from-bundle:
every other part unchanged) and `Predictor.predict_many` runs on fold k's image files as shipped
(224x224 JPEGs: LNet finds the face, the head scores LNet's crop). An image's score is that of
its highest-scoring face; an image where LNet finds no face has none and is counted apart (the
metrics are over the images with a face, and again with the training mean filled in for them).

Reported: Pearson r, MAE, RMSE (overall and per fold), MAE and bias per group (AF, AM, CF, CM),
the share of images without a face, the time the head adds per face (the Predictor's face graph
on ONNX Runtime with the first fold's bundle against --base, on batches of 1 and 5 of that
fold's faces, 1 and 2 threads, interleaved rounds, median: bench_head_cost.py), and the paste gap: for
--paste images of all folds, the same face pasted at its own size at a random place of a
640x480 generated background (smooth noise), through LNet again: mean |score(pasted) -
score(aligned)| and the share found. Baselines in the same folds: the training folds' mean
score (a constant) and a ridge regression on the bundle's ANet feature of the same face (the
256-d patch-averaged feature the attribute SVMs read), its alpha chosen inside the training folds.

Writes results.json, results.md and predictions.csv (per image: fold, group, true score, predicted
mean and std: the dataset's labels, so keep it beside your copy of the data, out of shared records) to
--out (the README there is written by hand).
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_head_cost import head_cost  # noqa: E402
from lnet_anet.cli.arguments import DefaultsHelpFormatter  # noqa: E402
from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.errors import DatasetFormatError  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500, scut_group  # noqa: E402
from lnet_anet.dldl.descriptor import DescriptorHead  # noqa: E402
from lnet_anet.inference.build import RunFolderError, rebundle, replace_heads  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402
from lnet_anet.metrics.age import regression_metrics  # noqa: E402

TARGETS = {"pearson_r": (">=", 0.90), "mae": ("<=", 0.23), "rmse": ("<=", 0.30), "head_ms_per_face": ("<=", 5.0)}
ANCHOR = {"model": "ResNeXt-50 (SCUT-FBP5500 paper, official 60/40 split)", "pearson_r": 0.8997, "mae": 0.2291,
          "rmse": 0.3017}  # fmt: skip
GROUPS = ("AF", "AM", "CF", "CM")


class FeaturePredictor(Predictor):
    """A Predictor that also keeps each face's ANet feature (for the ridge baseline): the
    face graph's patch features averaged over the patches (and mirror image), 256-d."""

    def _face_features(self, faces: list, pad: str | None = None, with_heads: bool = True) -> list[np.ndarray]:
        out = super()._face_features(faces, pad, with_heads)
        if with_heads:  # the faces analysed; without the heads, a face or box head's candidates
            for (*_, face), features in zip(faces, out[0], strict=True):
                face["_feature"] = np.asarray(features, np.float32).mean(0)
        return out


def _with_enlarge(config: dict, enlarge: float) -> dict:
    config["preprocessing"]["attractiveness"]["enlarge"] = enlarge
    return config


def metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    m = regression_metrics(pred, true)
    return {"n": int(m["n"]), **{k: round(float(m[k]), 4) for k in ("pearson_r", "mae", "rmse")}}  # n: a count


def by_group(pred: np.ndarray, true: np.ndarray, groups: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for g in GROUPS:
        sel = groups == g
        if sel.any():
            err = pred[sel] - true[sel]
            out[g] = {"n": int(sel.sum()), "mae": round(float(np.abs(err).mean()), 4),
                      "bias": round(float(err.mean()), 4)}  # fmt: skip
    return out


def best_face(record: dict) -> dict | None:
    faces = [f for f in record["faces"] if f.get("attractiveness") is not None]
    return max(faces, key=lambda f: f["score"]) if faces else None


def background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth coloured noise with a gradient: a generated, face-free backdrop."""
    small = rng.uniform(0, 255, (h // 32 + 1, w // 32 + 1, 3)).astype(np.float32)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    img += rng.normal(0, 12, img.shape).astype(np.float32)
    ramp = np.linspace(-30, 30, w, dtype=np.float32)[None, :, None]
    return np.clip(img + ramp, 0, 255).astype(np.uint8)


def paste(face: np.ndarray, rng: np.random.Generator, size=(480, 640)) -> np.ndarray:
    canvas = background(*size, rng)
    h, w = face.shape[:2]
    y, x = int(rng.integers(0, size[0] - h + 1)), int(rng.integers(0, size[1] - w + 1))
    canvas[y : y + h, x : x + w] = face
    return canvas


def descriptor_cost(predictor, paths: list[str]) -> dict[str, float]:
    """Median ms per face of the descriptor head (dlib's landmarks and descriptor, then the
    regression and the mix) on each image's best face box, one face per call, the torch threads
    as set. A joint head's ANet feature is computed outside the timing: Predictor has it anyway."""
    head, times = predictor.descriptor_head, []
    for path, faces in zip(paths, predictor.locate_many(paths, kind="face"), strict=True):
        if faces:
            img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
            box = faces[0][0]
            features = predictor.anet_features(img, [box]) if head.anet is not None else None
            t0 = time.perf_counter()
            head.mix(np.array([3.0]), head.describe(img, [box]), features)
            times.append(1000 * (time.perf_counter() - t0))
    return {"median_ms": round(float(np.median(times)), 2), "faces": len(times)}


def ridge_cv(train_x, train_y, test_x, alphas=(0.1, 1.0, 10.0, 100.0, 1000.0), seed: int = 0):
    """Ridge on standardised features; alpha by 5-fold CV inside the training rows."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    best, best_mae = None, np.inf
    for a in alphas:
        errs = []
        for tr, va in KFold(5, shuffle=True, random_state=seed).split(train_x):
            model = make_pipeline(StandardScaler(), Ridge(alpha=a)).fit(train_x[tr], train_y[tr])
            errs.append(np.abs(model.predict(train_x[va]) - train_y[va]).mean())
        if np.mean(errs) < best_mae:
            best, best_mae = a, float(np.mean(errs))
    model = make_pipeline(StandardScaler(), Ridge(alpha=best)).fit(train_x, train_y)
    return np.clip(model.predict(test_x), 1, 5), best


def build_parser() -> argparse.ArgumentParser:
    # DefaultsHelpFormatter: --help shows each option's default after its text
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=DefaultsHelpFormatter)
    p.add_argument("--runs", required=True,
                   help="the fold heads' run folders (train_anet_dldl), a pattern with {k} for the fold: required")
    p.add_argument("--base", type=Path, default=DEFAULT_BUNDLE,
                   help="the bundle each fold's head is put into (every other part unchanged)")
    p.add_argument("--root", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets") / "scut_fbp5500_train",
                   help="your copy of SCUT-FBP5500")  # fmt: skip
    p.add_argument("--folds", type=int, default=5, help="n of the k-fold split (fold_of), as the runs were trained")
    p.add_argument("--seed", type=int, default=0,
                   help="the folds' seed (as the runs were trained); also picks the paste images and places")
    p.add_argument("--only-folds", type=int, nargs="*",
                   help="score only these folds, a partial check (default: every fold, 1..--folds)")
    p.add_argument("--paste", type=int, default=300, help="images for the paste gap (0: skip)")
    p.add_argument("--timing-faces", type=int, default=30,
                   help="faces for the face-graph timing (bench_head_cost; 0: skip)")
    p.add_argument("--timing-rounds", type=int, default=5, help="interleaved rounds of that timing (median)")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--batch-size", type=int, default=8, help="images per Predictor.predict_many batch")
    p.add_argument("--limit", type=int, help="images per fold, a smoke run (default: all)")
    p.add_argument("--enlarge", type=float, default=None,
                   help="the head's crop enlargement in the fold bundles (default: its run's)")  # fmt: skip
    p.add_argument("--patches", choices=("all", "centre"), default="all",
                   help="the fold heads' patches (ANetDLDL's patches): all 9, or the centre one alone (a ninth of "
                        "the head's cost)")  # fmt: skip
    p.add_argument("--descriptor-heads", help="fold k's descriptor head, a pattern with {k} (fit_descriptor_head "
                   "--fold k): mixed into the score (Predictor.descriptor_head; default: none)")  # fmt: skip
    p.add_argument("--out", type=Path, default=REPO / "runs" / "bench-attractiveness",
                   help="folder for results.json, results.md and predictions.csv")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.time()

    index = read_scut_fbp5500(args.root)
    index = index[index["split"] == "train"].reset_index(drop=True)
    names = index["path"].map(os.path.basename).to_numpy()
    folds = fold_of(names.tolist(), args.folds, args.seed)
    true = index["attractiveness"].to_numpy(np.float64)
    groups = np.array([scut_group(n) for n in names])
    pred = np.full(len(index), np.nan)
    pred_std = np.full(len(index), np.nan)
    feats = np.full((len(index), 256), np.nan, np.float32)
    wanted = args.only_folds or list(range(1, args.folds + 1))
    rng = np.random.default_rng(args.seed)
    paste_pick = set(rng.choice(len(index), size=min(args.paste, len(index)), replace=False).tolist())
    paste_rows: list[dict] = []
    timing, per_fold, tmp = None, {}, Path(tempfile.mkdtemp(prefix="bench_attr_"))
    atexit.register(shutil.rmtree, tmp, True)  # the fold bundles (~12 MB each), gone however the run ends
    descriptor_ms = None
    for k in wanted:
        run = Path(args.runs.format(k=k))
        bundle = replace_heads(args.base, tmp / f"fold{k}.lnetanet", attractiveness=run,
                               command=f"bench_attractiveness fold {k}")  # fmt: skip
        if args.enlarge is not None:  # e.g. ANet's, so that the head shares ANet's trunk stages
            bundle = rebundle(bundle, bundle, lambda c: _with_enlarge(c, args.enlarge))
        predictor = FeaturePredictor.load(bundle, patches=None if args.patches == "all" else {"attractiveness": args.patches})
        if args.descriptor_heads:
            predictor.descriptor_head = DescriptorHead.load(args.descriptor_heads.format(k=k))
        rows = np.flatnonzero(folds == k)[: args.limit]
        t0 = time.time()
        for i, record in zip(rows, predictor.predict_many([index["path"][i] for i in rows], args.batch_size),
                             strict=True):  # fmt: skip
            if record["error"]:
                raise RuntimeError(record["error"])
            face = best_face(record)
            if face is not None:
                pred[i], pred_std[i] = face["attractiveness"]["mean"], face["attractiveness"]["std"]
                feats[i] = face["_feature"]
        seconds = time.time() - t0
        if timing is None and args.timing_faces > 0:  # the head's own cost, on this fold's found faces
            sample = [i for i in rows if np.isfinite(pred[i])][: args.timing_faces]
            imgs = [cv2.cvtColor(cv2.imread(index["path"][i]), cv2.COLOR_BGR2RGB) for i in sample]
            boxes = [next(predictor.locate_many([img], kind="region"))[0][0].astype(np.float32) for img in imgs]
            timing = head_cost(args.base, bundle, list(zip(imgs, boxes, strict=True)), rounds=args.timing_rounds)
            timing["max_added_ms_per_face"] = max(t["added_ms_per_face"] for t in timing.values())
        if args.descriptor_heads and descriptor_ms is None:  # what the opt-in descriptor adds per face
            descriptor_ms = descriptor_cost(predictor, [index["path"][i] for i in rows[:30]])
        pick = [i for i in rows if i in paste_pick]
        for i in pick:
            img = cv2.cvtColor(cv2.imread(index["path"][i]), cv2.COLOR_BGR2RGB)
            face = best_face(predictor.predict(paste(img, rng)))
            paste_rows.append({"row": int(i), "aligned": None if np.isnan(pred[i]) else float(pred[i]),
                               "pasted": None if face is None else face["attractiveness"]["mean"]})  # fmt: skip
        found = np.isfinite(pred[rows])
        fold_metrics = metrics(pred[rows][found], true[rows][found]) if found.any() else {}
        per_fold[k] = {"images": len(rows), "no_face": int((~found).sum()), "seconds": round(seconds, 1), **fold_metrics}
        print(f"fold {k}: {per_fold[k]}", flush=True)

    scored = np.isin(folds, wanted) if args.limit is None else np.isfinite(pred) | np.isin(
        np.arange(len(index)), np.concatenate([np.flatnonzero(folds == k)[: args.limit] for k in wanted]))
    found = scored & np.isfinite(pred)
    if not found.any():
        print(f"error: no face was found in any of the {int(scored.sum())} scored images: nothing to score "
              "(are they face photos?)", file=sys.stderr)  # fmt: skip
        return 1
    results: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": shlex.join(["python", "benchmarks/bench_attractiveness.py", *(argv or sys.argv[1:])]),
        "data": {"root": str(args.root), "images": int(scored.sum()), "list": "official 60% training list (3,300)",
                 "folds": {"n": args.folds, "seed": args.seed,
                           "rule": "fold = floor(n * blake2b('<seed>\\0<file name>', 8 bytes) / 2^64) + 1 "
                                   "(lnet_anet.data.readers.age.fold_of)",
                           "sizes": {int(k): int((folds == k).sum()) for k in range(1, args.folds + 1)}}},
        "runs": args.runs, "patches": args.patches, "base_bundle": str(args.base), "descriptor_heads": args.descriptor_heads,
        "descriptor_ms_per_face": descriptor_ms,
        "no_face_share": round(float((scored & ~np.isfinite(pred)).sum() / max(scored.sum(), 1)), 4),
        "model": {**metrics(pred[found], true[found]), "pred_std_mean": round(float(np.nanmean(pred_std[found])), 4),
                  **{f"within_{m}_std": round(float((np.abs(pred - true)[found] <= m * pred_std[found]).mean()), 4)
                     for m in (1, 2)}},  # fmt: skip
        "per_fold": per_fold,
        "by_group": by_group(pred[found], true[found], groups[found]),
    }
    # With the training mean filled in where LNet found no face: every image counts.
    filled = pred.copy()
    for k in wanted:
        sel = (folds == k) & scored & ~np.isfinite(pred)
        filled[sel] = true[(folds != k)].mean()
    results["model_all_images"] = metrics(filled[scored], true[scored])
    # Baselines, same folds, same images with a face.
    const = np.full(len(index), np.nan)
    ridge = np.full(len(index), np.nan)
    alphas = {}
    for k in wanted:
        test = (folds == k) & found
        const[test] = true[folds != k].mean()
        train = (folds != k) & np.isfinite(feats).all(1)
        if train.sum() > 50 and len(wanted) == args.folds:  # features of the other folds exist only in a full run
            ridge[test], alphas[k] = ridge_cv(feats[train], true[train], feats[test], seed=args.seed)
    results["baseline_constant"] = {**metrics(const[found], true[found]),
                                    "by_group": by_group(const[found], true[found], groups[found])}  # fmt: skip
    if np.isfinite(ridge[found]).all() and found.any():
        results["baseline_ridge_anet_features"] = {**metrics(ridge[found], true[found]), "alpha": alphas,
                                                   "by_group": by_group(ridge[found], true[found], groups[found])}  # fmt: skip
    results["head_time_per_face"] = timing
    both = [r for r in paste_rows if r["aligned"] is not None and r["pasted"] is not None]
    gap = np.array([r["pasted"] - r["aligned"] for r in both])
    results["paste_gap"] = {
        "images": len(paste_rows), "background": "640x480 generated smooth noise, face pasted at its own size (224 px)",
        "found_in_pasted": round(len([r for r in paste_rows if r["pasted"] is not None]) / max(len(paste_rows), 1), 4),
        "mean_abs_gap": round(float(np.abs(gap).mean()), 4) if len(gap) else None,
        "mean_gap": round(float(gap.mean()), 4) if len(gap) else None,
        "p90_abs_gap": round(float(np.quantile(np.abs(gap), 0.9)), 4) if len(gap) else None,
        "pearson_aligned_vs_pasted": round(float(np.corrcoef([r["aligned"] for r in both],
                                                             [r["pasted"] for r in both])[0, 1]), 4) if len(gap) > 2 else None,
        "mae_pasted_vs_truth": round(float(np.mean([abs(r["pasted"] - true[r["row"]]) for r in both])), 4) if both else None,
    }  # fmt: skip
    results["targets"] = {k: {"target": f"{op} {v}", "reached": None} for k, (op, v) in TARGETS.items()}
    for key, (op, v) in TARGETS.items():
        got = results["model"].get(key) if key != "head_ms_per_face" else (timing or {}).get("max_added_ms_per_face")
        if got is not None:
            results["targets"][key] = {"target": f"{op} {v}", "value": got,
                                       "reached": bool(got >= v if op == ">=" else got <= v)}  # fmt: skip
    results["anchor"] = ANCHOR
    results["machine"] = {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "torch": torch.__version__, "torch_threads": args.threads,
                          "load_average": list(os.getloadavg())}  # fmt: skip
    results["seconds"] = round(time.time() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    pd.DataFrame({"image": names, "fold": folds, "group": groups, "true": true, "mean": pred, "std": pred_std})[scored].to_csv(
        args.out / "predictions.csv", index=False, float_format="%.4f")  # per image: scores only, no face data
    (args.out / "results.md").write_text(render(results))
    print(render(results))
    return 0


def render(r: dict) -> str:
    lines = ["| predictor (end to end) | images | Pearson r | MAE | RMSE |", "|---|---|---|---|---|"]
    rows = [("**DLDL-v2 head (this record)**", r["model"]), ("same, training mean where no face", r["model_all_images"]),
            ("baseline: training mean (constant)", r["baseline_constant"])]  # fmt: skip
    if "baseline_ridge_anet_features" in r:
        rows.append(("baseline: ridge on the bundle's ANet feature", r["baseline_ridge_anet_features"]))
    rows.append((f"anchor: {r['anchor']['model']}", {"n": "-", **r["anchor"]}))
    for name, m in rows:
        lines.append(f"| {name} | {m['n']} | {m['pearson_r']:.4f} | {m['mae']:.4f} | {m['rmse']:.4f} |")
    lines += ["", f"No face found by LNet: {r['no_face_share']:.2%} of the images.", "",
              "| group | n | MAE | bias (pred - true) | constant MAE |", "|---|---|---|---|---|"]  # fmt: skip
    for g, m in r["by_group"].items():
        lines.append(f"| {g} | {m['n']} | {m['mae']:.4f} | {m['bias']:+.4f} | "
                     f"{r['baseline_constant']['by_group'][g]['mae']:.4f} |")  # fmt: skip
    lines += ["", "| fold | images | no face | Pearson r | MAE | RMSE | seconds |", "|---|---|---|---|---|---|---|"]
    for k, m in r["per_fold"].items():
        lines.append(f"| {k} | {m['images']} | {m['no_face']} | {m.get('pearson_r', float('nan')):.4f} | "
                     f"{m.get('mae', float('nan')):.4f} | {m.get('rmse', float('nan')):.4f} | {m['seconds']} |")  # fmt: skip
    t = r.get("head_time_per_face") or {}
    if t:
        lines += ["", "Time per face of the Predictor's face graph (ANet + heads, ONNX Runtime), the base bundle "
                      "against the bundle with this head, interleaved rounds, median (bench_head_cost.py; shared "
                      "machine):", "", "| threads, batch | base ms/face | with this head | added |", "|---|---|---|---|"]
        for key, v in t.items():
            if isinstance(v, dict):
                lines.append(f"| {key.replace('_', ' ')} | {v['base']['ms_per_face']} | {v['variant']['ms_per_face']} "
                             f"| {v['added_ms_per_face']} |")  # fmt: skip
    if r.get("descriptor_heads"):
        d = r.get("descriptor_ms_per_face") or {}
        lines += ["", f"Mixed with the descriptor heads {r['descriptor_heads']} (dlib's face-recognition descriptor, "
                      f"Predictor.descriptor_head): {d.get('median_ms')} ms more per face (median of {d.get('faces')}; "
                      "dlib's landmarks, descriptor and the regression)."]  # fmt: skip
    g = r["paste_gap"]
    if g["images"]:  # --paste 0: no gap measured, no line of Nones
        lines += ["", f"Paste gap ({g['images']} images, {g['background']}): found {g['found_in_pasted']:.1%}; "
                      f"mean |pasted - aligned| {g['mean_abs_gap']}, mean signed {g['mean_gap']}, 90th percentile "
                      f"{g['p90_abs_gap']}, r {g['pearson_aligned_vs_pasted']}; MAE of the pasted score "
                      f"{g['mae_pasted_vs_truth']}."]  # fmt: skip
    lines += ["", "| target | value | reached |", "|---|---|---|"]
    for k, t in r["targets"].items():
        lines.append(f"| {k} {t['target']} | {t.get('value', '-')} | {t['reached']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (DatasetFormatError, RunFolderError) as e:  # missing SCUT data, a run folder that is not there: one line
        print(f"error: {e} (this script's options: --help)", file=sys.stderr)
        sys.exit(2)
