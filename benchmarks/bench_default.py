"""`make bench`: the recorded figures of a model bundle (default: the embedded one).

    python benchmarks/bench_default.py [--bundle FILE] [--datasets ../shared/datasets] [--quick]

- attributes: ANet + SVMs of the bundle on celeba_hq128's val partition (whole 128 px faces, the
  training framing), mean accuracy and mean balanced accuracy beside the majority class;
- localization: LNet + the bundle's localizer on composed scenes of val faces (half of them
  face-free), recall@IoU0.5, mean IoU, false positives per image, face-free images with no box;
- age: the bundle's age head on the fixed 20% UTKFace hold-out, MAE beside the constant-median
  baseline;
- speed: benchmarks/bench_predict.py (end-to-end ms per 300x300 photo, images/s).
Writes experiments/<date>-default/results.{md,json}. Needs the datasets: it says so and stops
when they are missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader, Subset

from lnet_anet.data import datasets_root, runs_root
from lnet_anet.data.dataset import collate_skip_bad
from lnet_anet.data.from_config import build_index, face_dataset, split_of
from lnet_anet.data.scenes import BackgroundBank, ComposedScenes
from lnet_anet.engine.runs import machine
from lnet_anet.inference.bundle import load_bundle
from lnet_anet.inference.predictor import DEFAULT_BUNDLE
from lnet_anet.lnet.cascade import evaluate_stages
from lnet_anet.metrics.age import regression_metrics
from lnet_anet.metrics.attributes import attribute_metrics

REPO = Path(__file__).resolve().parents[1]


def data_cfg(name: str, datasets: Path):
    cfg = OmegaConf.merge({"paths": {"datasets": str(datasets), "runs": "runs"}},
                          {"data": OmegaConf.load(REPO / "lnet_anet" / "conf" / "data" / f"{name}.yaml")})  # fmt: skip
    return cfg.data


@torch.no_grad()
def mean_features(bundle, dataset, batch_size: int = 64):
    prep = bundle.preprocessing["anet"]
    feats, labels, rows = [], [], []
    for batch in DataLoader(dataset, batch_size=batch_size, num_workers=2, collate_fn=collate_skip_bad):
        if batch is None:
            continue
        views = [batch["image"], *([batch["image"].flip(-1)] if prep.get("mirror") else [])]
        feats.append(torch.stack([bundle.anet.dense_features(v, prep["stride"]).flatten(1, 2).mean(1) for v in views]).mean(0))
        labels.append(batch.get("attributes", batch.get("age")))
        rows.append(batch["index"])
    return torch.cat(feats), torch.cat(labels).numpy(), torch.cat(rows).numpy()


def attributes(bundle, datasets: Path, limit: int | None) -> dict:
    cfg = data_cfg("celeba_hq", datasets)
    index = build_index(cfg)
    names = bundle.attributes
    val = split_of(index, "val")
    val = val.sample(n=min(limit, len(val)), random_state=0) if limit else val  # a random sample: names sort by age
    dataset = face_dataset(cfg, val, train=False, image_size=bundle.preprocessing["anet"]["canonical_size"],
                           attributes=names)  # fmt: skip
    feats, labels, _ = mean_features(bundle, dataset)
    probs = bundle.svm.probabilities(feats.numpy())
    m = attribute_metrics(bundle.svm.decide(probs), labels, names, index.loc[index.split == "train", names].to_numpy())
    return {k: m[k] for k in ("mean_accuracy", "mean_balanced_accuracy", "majority_mean_accuracy", "n_images")}


def localization(bundle, datasets: Path, n: int) -> dict:
    cfg = data_cfg("celeba_hq", datasets)
    val = split_of(build_index(cfg), "val")
    side = bundle.preprocessing["lnet"]["input_size"][0]
    scenes = ComposedScenes(val, BackgroundBank(side), canvas=side, seed=2, p_empty=0.5)
    loader = DataLoader(Subset(scenes, range(min(n, len(scenes)))), batch_size=32, num_workers=2,
                        collate_fn=collate_skip_bad)  # fmt: skip
    return evaluate_stages(bundle.lnet, bundle.localizer(), bundle.cascade(), loader)  # as the predictor runs them


def age(bundle, datasets: Path, limit: int | None) -> dict:
    if bundle.age is None:
        return {"note": "the bundle has no age head"}
    cfg = data_cfg("utkface", datasets)
    index = build_index(cfg)
    held = split_of(index, "val").reset_index(drop=True)
    held = held.sample(n=min(limit, len(held)), random_state=0).reset_index(drop=True) if limit else held
    prep = bundle.preprocessing["age"]
    if prep.get("input") == "anet_features":  # a head on the attribute ANet's feature
        dataset = face_dataset(cfg, held, train=False, image_size=bundle.preprocessing["anet"]["canonical_size"])
        feats, ages, _ = mean_features(bundle, dataset)
        with torch.no_grad():
            pred = bundle.age.head.predict(bundle.age(feats)["logits"])["mean"]
    else:  # a network on the face crop (e.g. anet_dldl), as the predictor runs it
        dataset = face_dataset(cfg, held, train=False, image_size=prep["image_size"], mean=prep["mean"], std=prep["std"])
        preds, ages = [], []
        with torch.no_grad():
            for batch in DataLoader(dataset, batch_size=64, num_workers=2, collate_fn=collate_skip_bad):
                if batch is not None:
                    preds.append(bundle.age.head.predict(bundle.age(batch["image"])["logits"])["mean"])
                    ages.append(batch["age"])
        pred, ages = torch.cat(preds), torch.cat(ages).numpy()
    m = regression_metrics(pred.numpy(), ages)
    train_median = float(np.median(split_of(index, "train")["age"]))
    return {**{k: m[k] for k in ("mae", "rmse", "pearson_r", "cs_5", "n")},
            "median_baseline_mae": float(np.abs(ages - train_median).mean())}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help="the bundle to measure (default: the embedded one)")
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"),
                    help="the folder holding celeba_hq128/ and utkface128/ (default: LNET_ANET_DATASETS, else ../shared/datasets)")
    ap.add_argument("--quick", action="store_true",
                    help="500 faces per figure (a smoke run; written under LNET_ANET_RUNS, never over a record)")
    ap.add_argument("--out", type=Path, default=None,
                    help="the record's folder (default: experiments/<date>-default in the repository, emptied of "
                         "that day's figures first; with --quick, ${LNET_ANET_RUNS:-runs}/bench-default-quick/<date>)")
    args = ap.parse_args(argv)
    if not args.bundle.exists():
        print(f"no model bundle yet: {args.bundle} does not exist", file=sys.stderr)
        return 1
    missing = [d for d in ("celeba_hq128", "utkface128") if not (args.datasets / d).exists()]
    if missing:
        print(f"bench_default: needs {' and '.join(missing)} under {args.datasets} (--datasets DIR or "
              "LNET_ANET_DATASETS)", file=sys.stderr)  # fmt: skip
        return 1
    torch.set_num_threads(2)
    bundle = load_bundle(args.bundle)
    limit = 500 if args.quick else None
    results = {
        "date": dt.date.today().isoformat(),
        "command": " ".join(["python", *sys.argv]),
        "bundle": str(args.bundle),
        "identity": bundle.identity,  # as predict's records say "bundle"; speed/results.json has "model" too
        "quick": args.quick,
        "provenance": bundle.config.get("provenance"),
        "machine": machine(),
    }
    # a smoke run is not a record: it must not replace the day's full one in the repository (trial 85)
    default_out = (runs_root() / "bench-default-quick" / results["date"] if args.quick
                   else REPO / "experiments" / f"{results['date']}-default")  # fmt: skip
    out = args.out or default_out
    out.mkdir(parents=True, exist_ok=True)
    # an earlier run's files here would sit beside this run's figures: gone first; "complete" is set at the end
    for stale in (out / "results.md", out / "results.json"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out / "speed", ignore_errors=True)
    results["complete"] = False
    figures = {"attributes_celeba_hq128_val": lambda: attributes(bundle, args.datasets, limit),
               "localization_composed_val_scenes": lambda: localization(bundle, args.datasets, limit or 600),
               "age_utkface128_holdout": lambda: age(bundle, args.datasets, limit)}  # fmt: skip
    for name, measure in figures.items():  # results.json after each: a failure later keeps these
        results[name] = measure()
        (out / "results.json").write_text(json.dumps(results, indent=2, default=float))
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_predict.py"), "--bundle", str(args.bundle),
                    "--out", str(out / "speed")], check=True)  # fmt: skip
    results["speed"] = json.loads((out / "speed" / "results.json").read_text())
    results["complete"] = True
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float))
    a, loc, g = (results["attributes_celeba_hq128_val"], results["localization_composed_val_scenes"],
                 results["age_utkface128_holdout"])  # fmt: skip
    lines = [
        f"# Default bundle figures ({results['date']}{', quick: 500 faces per figure, a smoke run' if args.quick else ''})",
        "", f"Command: `{results['command']}`", "", f"Bundle: `{results['bundle']}` (bundle {results['identity']})", "",
        f"Machine: {results['machine']}", "",
        "| figure | value | baseline |", "|---|---|---|",
        f"| attributes: mean accuracy (celeba_hq128 val, {int(a['n_images'])} faces) | {a['mean_accuracy']:.4f} | majority {a['majority_mean_accuracy']:.4f} |",
        f"| attributes: mean balanced accuracy | {a['mean_balanced_accuracy']:.4f} | majority 0.5000 |",
        f"| localization: recall@IoU0.5 (composed val scenes) | {loc['recall']:.4f} | |",
        f"| localization: false positives per image | {loc['false_positives_per_image']:.4f} | |",
        f"| localization: face-free images with no box | {loc['empty_image_rate']:.4f} | |",
        f"| localization: mean IoU | {loc['mean_iou']:.4f} | |",
    ]  # fmt: skip
    if "mae" in g:
        lines.append(f"| age: MAE (UTKFace 20% hold-out, {int(g['n'])} faces) | {g['mae']:.3f} | median {g['median_baseline_mae']:.3f} |")
    lines += ["", "Speed: see speed/results.md.", ""]
    (out / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
