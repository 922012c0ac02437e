"""A bundle's attributes on your own labelled copy of CelebA, CelebA-HQ or LFWA, end to end.

    python benchmarks/bench_attributes.py --data lfwa --root /data/lfwa [--split test]
        [--bundle FILE] [--limit N] [--batch-size 8] [--out DIR] [data.KEY=VALUE ...]

The images of one split of the dataset are read as files by `Predictor.predict_many` (LNet finds
the face, ANet and the SVMs read its crop), as a user's photos are; the face LNet scores highest
in each image is scored against the image's labels. The figures: the share of images with a face
found, and over those, the mean accuracy and mean balanced accuracy over the attributes at the
bundle's decisions (its per-attribute thresholds, the record's "present") and at p >= 0.5, beside
the majority baseline (per attribute, the value most frequent in the train split's labels; the
scored split's own when the dataset has no train rows). Per attribute: accuracy, balanced
accuracy, positive rate.

--data names a dataset config (lnet_anet/conf/data/<name>.yaml with task: attributes); --root is
the folder that config reads (the same layout: see the README's Data section); --split defaults to
the config's eval_split (LFWA: test; CelebA, CelebA-HQ: val: never tune on test). Attributes the
bundle has and the labels lack are left out, and said. Writes results.json and results.md (the
command, the data, the bundle, the figures, the machine) into --out (default
runs/bench_attributes/<data>-<split>-<time>).

Paper (LNets+ANet, ICCV 2015): 87% on CelebA, 84% on LFWA, mean accuracy over the 40 attributes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
from pathlib import Path

import numpy as np
from hydra.errors import InstantiationException
from omegaconf import OmegaConf
from tqdm import tqdm

from lnet_anet.data.from_config import build_index, split_of
from lnet_anet.engine.runs import USER_ERRORS, machine
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.shipped import DEFAULT_BUNDLE
from lnet_anet.metrics.attributes import attribute_metrics

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "lnet_anet" / "conf" / "data"
PAPER = {"celeba": 0.87, "lfwa": 0.84}  # LNets+ANet's mean accuracy (Liu et al., ICCV 2015, Table 1)


def attribute_datasets() -> list[str]:
    """The dataset configs whose task is attributes (what --data takes)."""
    return sorted(p.stem for p in CONFIGS.glob("*.yaml") if OmegaConf.load(p).get("task") == "attributes")


def dataset_config(name: str, root: Path, overrides: list[str] = ()):
    """conf/data/<name>.yaml with its index reading `root`, then `overrides` ("data.KEY=VALUE",
    as the training commands take them). ValueError for an override that is not data.KEY=VALUE."""
    bad = [o for o in overrides if not o.startswith("data.") or "=" not in o]
    if bad:
        raise ValueError(f"{bad[0]!r}: settings are data.KEY=VALUE, e.g. data.index.images=img_align_celeba")
    cfg = OmegaConf.merge({"paths": {"datasets": str(root.parent), "runs": "runs"}},
                          {"data": OmegaConf.load(CONFIGS / f"{name}.yaml")}, OmegaConf.from_dotlist(list(overrides)))  # fmt: skip
    cfg.data.index.root = str(root)
    return cfg.data


def top_faces(predictor: Predictor, paths: list[str], batch_size: int) -> list[dict | None]:
    """The highest-scoring face of each file (None: no face found, or the file could not be read)."""
    out = []
    records = predictor.predict_many(paths, batch_size=batch_size)
    for record in tqdm(records, total=len(paths), desc="images", unit="img", file=sys.stderr, mininterval=2):
        faces = record["faces"]
        out.append(max(faces, key=lambda f: f["score"]) if faces else None)
    return out


def score(faces: list[dict | None], labels: np.ndarray, names: list[str], thresholds: np.ndarray,
          train_labels: np.ndarray | None) -> dict:  # fmt: skip
    """faces: each image's top face (None: none found); labels (N, A) 0/1 in `names` order;
    thresholds (A,): the bundle's decisions. The figures of the module docstring."""
    found = np.array([f is not None for f in faces], bool)
    if not found.any():
        return {"n_images": len(faces), "found": 0.0}
    probs = np.array([[f["attributes"][n] for n in names] for f in faces if f is not None])
    kept = labels[found]
    at_decisions = attribute_metrics(probs >= thresholds, kept, names, train_labels)
    at_half = attribute_metrics(probs >= 0.5, kept, names, train_labels)
    return {"n_images": len(faces), "n_scored": int(found.sum()), "found": float(found.mean()),
            "decisions": {k: at_decisions[k] for k in ("mean_accuracy", "mean_balanced_accuracy")},
            "p_ge_0.5": {k: at_half[k] for k in ("mean_accuracy", "mean_balanced_accuracy")},
            "majority_mean_accuracy": at_decisions["majority_mean_accuracy"],
            "per_attribute": {n: {k: at_decisions["per_attribute"][n][k] for k in ("accuracy", "balanced_accuracy",
                                                                                  "positive_rate")} for n in names}}  # fmt: skip


def markdown(r: dict) -> str:
    s = r["scores"]
    lines = [f"# Attributes end to end: {r['data']['name']} {r['data']['split']}", "", f"`{r['command']}`", "",
             f"Bundle {r['bundle']['path']} (identity {r['bundle']['identity']}); {s['n_images']} images of "
             f"{r['data']['root']}, a face found in {s['found']:.4f} of them"
             + (f"; {len(r['left_out_attributes'])} attributes the labels lack: {', '.join(r['left_out_attributes'])}"
                if r["left_out_attributes"] else "") + ".", ""]  # fmt: skip
    if "decisions" in s:
        paper = f" (LNets+ANet: {PAPER[r['data']['name']]:.2f})" if r["data"]["name"] in PAPER else ""
        lines += ["| scored on the images with a face found | mean accuracy | mean balanced accuracy |", "|---|---|---|",
                  f"| at the bundle's decisions | {s['decisions']['mean_accuracy']:.4f}{paper} | "
                  f"{s['decisions']['mean_balanced_accuracy']:.4f} |",
                  f"| at p >= 0.5 | {s['p_ge_0.5']['mean_accuracy']:.4f} | {s['p_ge_0.5']['mean_balanced_accuracy']:.4f} |",
                  f"| majority class per attribute | {s['majority_mean_accuracy']:.4f} | 0.5 |", "",
                  "| attribute | accuracy | balanced accuracy | positive rate |", "|---|---|---|---|"]  # fmt: skip
        lines += [f"| {n} | {a['accuracy']:.4f} | {a['balanced_accuracy']:.4f} | {a['positive_rate']:.3f} |"
                  for n, a in s["per_attribute"].items()]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    choices = attribute_datasets()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("settings", nargs="*", metavar="data.KEY=VALUE",
                    help="the dataset config's settings, as the training commands take them (data.index.images=img_celeba)")
    ap.add_argument("--data", required=True, choices=choices, help="the dataset config (lnet_anet/conf/data)")
    ap.add_argument("--root", type=Path, required=True, help="the dataset's folder, laid out as the config reads it")
    ap.add_argument("--split", default=None, help="the split scored (default: the config's eval_split)")
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help="the bundle (default: the embedded one)")
    ap.add_argument("--limit", type=int, default=None, help="score the first N images of the split (default: all)")
    ap.add_argument("--batch-size", type=int, default=8, help="images per Predictor batch (default: 8)")
    ap.add_argument("--out", type=Path, default=None, help="the results folder (default: runs/bench_attributes/<data>-<split>-<time>)")
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        ap.error(f"--limit must be at least 1, got {args.limit}")
    if args.batch_size < 1:
        ap.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if not args.root.is_dir():
        ap.error(f"--root {args.root}: no such folder")
    if not args.bundle.is_file():
        ap.error(f"--bundle {args.bundle}: no such file")
    try:
        cfg = dataset_config(args.data, args.root, args.settings)
    except ValueError as e:
        ap.error(str(e))
    split = args.split or cfg.get("eval_split") or "val"
    try:
        index = build_index(cfg)
    except InstantiationException as e:  # hydra.utils.instantiate wraps what the reader raised
        if isinstance(e.__cause__, USER_ERRORS):  # a label file's problem, its file and line named
            print(f"error: {e.__cause__}", file=sys.stderr)
            return 2
        raise
    if split not in set(index["split"]):
        ap.error(f"{args.root} has no {split!r} rows (its splits: {', '.join(sorted(set(index['split'])))})")
    part = split_of(index, split).reset_index(drop=True)
    part = part.iloc[: args.limit] if args.limit else part
    predictor = Predictor.load(args.bundle)
    names = [n for n in predictor.attributes if n in index.columns]
    left_out = [n for n in predictor.attributes if n not in index.columns]
    if not names:
        ap.error(f"the labels of {args.root} name none of the bundle's attributes ({', '.join(predictor.attributes[:5])}, ...)")
    thresholds = np.asarray(predictor.bundle.svm.threshold)[[predictor.attributes.index(n) for n in names]]
    train = index[index["split"] == "train"]
    faces = top_faces(predictor, part["path"].tolist(), args.batch_size)
    scores = score(faces, part[names].to_numpy(), names, thresholds, train[names].to_numpy() if len(train) else None)
    date = dt.date.today().isoformat()
    out = args.out or Path("runs") / "bench_attributes" / f"{args.data}-{split}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    record = {"command": shlex.join(["python", "benchmarks/bench_attributes.py", *(argv if argv is not None else sys.argv[1:])]),
              "date": date, "data": {"name": args.data, "root": str(args.root), "split": split, "n_images": len(part)},
              "bundle": {"path": str(args.bundle), "identity": predictor.bundle.identity},
              "left_out_attributes": left_out, "scores": scores, "machine": machine()}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "results.md").write_text(markdown(record))
    print(markdown(record).split("\n\n| attribute")[0])
    print(f"wrote {out / 'results.md'} and {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
