"""A bundle's attributes on your own labelled copy of CelebA, CelebA-HQ or LFWA, end to end.

    python benchmarks/bench_attributes.py --data lfwa --root /data/lfwa [--split test]
        [--bundle FILE] [--limit N] [--batch-size 8] [--intervals 1000] [--out DIR] [data.KEY=VALUE ...]

The images of one split of the dataset are read as files by `Predictor.predict_many` (LNet finds
the face, ANet and the SVMs read its crop), as a user's photos are; the face LNet scores highest
in each image is scored against the image's labels. An image the Predictor cannot read (a truncated
JPEG, a text file named .jpg) is named on stderr with the reason, left out of every figure and
listed in results.json ("unreadable"); the rows the dataset reader left out (a missing image) are
listed there too ("reader_warnings", "left_out_rows"). The figures: the share of images with a face
found, and over those, the mean accuracy and mean balanced accuracy over the attributes at the
bundle's decisions (its per-attribute thresholds, the record's "present") and at p >= 0.5, each
with its 95% confidence interval (the percentile bootstrap over --intervals resamples of the faces
scored, a person's faces drawn together when the labels name identities; lnet_anet.metrics.intervals),
beside the majority baseline (per attribute, the value most frequent in the train split's labels; the
scored split's own when the dataset has no train rows; its balanced accuracy as the metric gives it,
which is not 0.5 for an attribute with one class only among the scored images). Per attribute: accuracy, balanced
accuracy, positive rate, and the expected calibration error (ECE) of its probabilities; the ECE of all
the attributes' probabilities pooled too (10 equal bins of [0, 1]: the share of the probabilities in
each bin times the gap between its share of labels present and its mean probability, summed), with
its bins, and drawn in reliability.png: the pooled reliability diagram (the share of labels present
against the mean probability of each bin, the diagonal, the counts below, the ECE in the legend)
beside the 8 attributes of the highest ECE.

--data names a dataset config (lnet_anet/conf/data/<name>.yaml with task: attributes); --root is
the folder that config reads (the same layout: see the README's Data section); --split defaults to
the config's eval_split (LFWA: test; CelebA, CelebA-HQ: val: never tune on test). Attributes the
bundle has and the labels lack are left out, and said. Writes results.json and results.md (the
command, the data, the bundle, the figures, the machine) and reliability.png into --out (default
runs/bench_attributes/<data>-<split>-<time>). A setting, dataset or bundle that cannot be used, or a
split of which no image can be read: one `error: ...` line on stderr, exit status 2.

Paper (LNets+ANet, ICCV 2015): 87% on CelebA, 84% on LFWA, mean accuracy over the 40 attributes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import shlex
import sys
import warnings
from pathlib import Path

import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import get_method
from omegaconf import OmegaConf
from tqdm import tqdm

from lnet_anet.data import runs_root
from lnet_anet.data.from_config import build_index, no_rows_error, split_of
from lnet_anet.engine.runs import USER_ERRORS, machine, say_left_out
from lnet_anet.inference.bundle import BundleError
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.shipped import DEFAULT_BUNDLE
from lnet_anet.metrics.attributes import attribute_intervals, attribute_metrics, calibration_bins
from lnet_anet.metrics.intervals import RESAMPLES, enough_units, format_interval

N_BINS = 10  # the calibration figures' bins of [0, 1]
WORST = 8  # reliability.png: the attributes of the highest ECE drawn one by one
ARM = "end to end (Predictor on the files)"  # the one way this script makes its probabilities

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


def reader_error(e: InstantiationException, cfg) -> str:
    """What the dataset reader raised, as one line naming the setting: hydra's InstantiationException
    wraps it (a misspelt key is a TypeError of the reader's call)."""
    cause = e.__cause__
    if cause is None:
        return f"data.index: {e}".splitlines()[0]
    if isinstance(cause, USER_ERRORS):  # a label file's problem, its file and line named
        return str(cause)
    target = cfg.index.get("_target_", "")
    name = target.rsplit(".", 1)[-1]
    if isinstance(cause, TypeError) and "unexpected keyword argument" in str(cause):
        key = str(cause).rsplit("argument", 1)[-1].strip(" '\"")
        takes = ""
        try:  # the reader's own parameters, to say what a misspelt key should be
            params = [p for p in inspect.signature(get_method(target)).parameters if p != "root"]
            takes = f" (it takes: {', '.join(f'data.index.{p}' for p in params)})"
        except Exception:  # noqa: BLE001 - the message is whole without the list
            pass
        return f"data.index.{key}: not a setting of the {cfg.get('name', '')} reader {name}{takes}"
    return f"data.index ({name}): {type(cause).__name__}: {cause}"


def top_faces(predictor: Predictor, paths: list[str], batch_size: int) -> tuple[list[dict | None], list[dict]]:
    """The highest-scoring face of each file the Predictor could read (None: no face found), in
    `paths` order, and the files it could not read, as [{"path", "reason"}] (not in the first list)."""
    out, unreadable = [], []
    records = predictor.predict_many(paths, batch_size=batch_size)
    for path, record in zip(paths, tqdm(records, total=len(paths), desc="images", unit="img", file=sys.stderr,
                                        mininterval=2), strict=True):  # fmt: skip
        if record.get("error"):  # no face for want of pixels: not a "no face found"
            reason = str(record["error"])
            unreadable.append({"path": path, "reason": reason.removeprefix(f"{path}: ")})
            continue
        faces = record["faces"]
        out.append(max(faces, key=lambda f: f["score"]) if faces else None)
    return out, unreadable


def probabilities(faces: list[dict | None], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """found (N,) bool: the images with a face; probs (found.sum(), A): those faces' attribute
    probabilities in `names` order."""
    found = np.array([f is not None for f in faces], bool)
    probs = np.array([[f["attributes"][n] for n in names] for f in faces if f is not None], np.float64)
    return found, probs.reshape(len(probs), len(names))


def calibration(probs: np.ndarray, labels: np.ndarray) -> dict:
    """{"ece", "n_bins", "bins": {"count", "mean_predicted", "observed"} (null in an empty bin)} of
    the (N, A) probabilities pooled against their 0/1 labels (metrics.attributes.calibration_bins)."""
    b = calibration_bins(probs, labels, N_BINS)
    listed = lambda a: [None if np.isnan(v) else round(float(v), 6) for v in a]  # noqa: E731
    return {"ece": b["ece"], "n_bins": N_BINS, "bins": {"count": b["count"].tolist(),
            "mean_predicted": listed(b["mean_predicted"]), "observed": listed(b["observed"])}}  # fmt: skip


def score(faces: list[dict | None], labels: np.ndarray, names: list[str], thresholds: np.ndarray,
          train_labels: np.ndarray | None, resamples: int = RESAMPLES, people: np.ndarray | None = None) -> dict:  # fmt: skip
    """faces: each image's top face (None: none found); labels (N, A) 0/1 in `names` order;
    thresholds (A,): the bundle's decisions. The figures of the module docstring, with the 95%
    bootstrap intervals of the mean accuracies (faces resampled; `people` (N,): the person in each
    image, whose faces are then drawn together; `resamples` 0: none)."""
    found, probs = probabilities(faces, names)
    if not found.any():
        return {"n_images": len(faces), "found": 0.0}
    kept = labels[found]
    at_decisions = attribute_metrics(probs >= thresholds, kept, names, train_labels)
    at_half = attribute_metrics(probs >= 0.5, kept, names, train_labels)
    # The majority baseline's balanced accuracy as the metric gives it: 0.5 only where both classes
    # are among the scored images (an absent class's rate is left out of the mean: 1 or 0 then).
    reference = kept if train_labels is None else np.asarray(train_labels)
    majority = np.broadcast_to(reference.astype(bool).mean(axis=0) >= 0.5, kept.shape)
    at_majority = attribute_metrics(majority, kept, names, train_labels)
    people = None if people is None else np.asarray(people)[found]
    intervals = (attribute_intervals({"decisions": probs >= thresholds, "p_ge_0.5": probs >= 0.5}, kept, resamples,
                                     groups=people, names=names) if resamples and enough_units(len(kept), people) else None)  # fmt: skip
    return {"intervals": intervals, "n_images": len(faces), "n_scored": int(found.sum()), "found": float(found.mean()),
            "decisions": {k: at_decisions[k] for k in ("mean_accuracy", "mean_balanced_accuracy")},
            "p_ge_0.5": {k: at_half[k] for k in ("mean_accuracy", "mean_balanced_accuracy")},
            "majority_mean_accuracy": at_decisions["majority_mean_accuracy"],
            "majority_mean_balanced_accuracy": at_majority["mean_balanced_accuracy"],
            "one_class_attributes": at_decisions["one_class_attributes"],
            "decisions_balanced_both_classes": at_decisions["mean_balanced_accuracy_both_classes"],
            "calibration": calibration(probs, kept.astype(bool)),  # 0/1 as attribute_metrics reads them
            "per_attribute": {n: {**{k: at_decisions["per_attribute"][n][k] for k in ("accuracy", "balanced_accuracy",
                                                                                     "positive_rate")},
                                  "ece": calibration_bins(probs[:, j], kept[:, j].astype(bool), N_BINS)["ece"]}
                              for j, n in enumerate(names)}}  # fmt: skip


def markdown(r: dict) -> str:
    s = r["scores"]
    bad = r.get("unreadable") or []
    gone = (f"{len(bad)} of them unreadable (left out of every figure; results.json: unreadable), a face found in "
            f"{s['found']:.4f} of the {s['n_images']} others" if bad else f"a face found in {s['found']:.4f} of them")
    rows = r.get("left_out_rows") or []
    reader = f"; the reader left out {len(rows)} row(s) (results.json: left_out_rows)" if rows else ""
    lines = [f"# Attributes end to end: {r['data']['name']} {r['data']['split']}", "", f"`{r['command']}`", "",
             f"Bundle {r['bundle']['path']} (identity {r['bundle']['identity']}); {r['data']['n_images']} images of "
             f"{r['data']['root']}, {gone}{reader}"
             + (f"; {len(r['left_out_attributes'])} attributes the labels lack: {', '.join(r['left_out_attributes'])}"
                if r["left_out_attributes"] else "") + ".", ""]  # fmt: skip
    if "decisions" in s:
        # the paper's figure: its test split, every image scored; this row: the images with a face found
        paper = (f" (LNets+ANet: {PAPER[r['data']['name']]:.2f} on the test split, every image)"
                 if r["data"]["name"] in PAPER else "")  # fmt: skip
        said = s.get("intervals") or {}

        def cell(rule: str, figure: str) -> str:  # the figure, its 95% interval in brackets when there is one
            return format_interval(s[rule][figure], said.get(f"{rule}/{figure}"), ".4f")

        lines += ["| scored on the images with a face found | mean accuracy | mean balanced accuracy |", "|---|---|---|",
                  f"| at the bundle's decisions | {cell('decisions', 'mean_accuracy')}{paper} | "
                  f"{cell('decisions', 'mean_balanced_accuracy')} |",
                  f"| at p >= 0.5 | {cell('p_ge_0.5', 'mean_accuracy')} | {cell('p_ge_0.5', 'mean_balanced_accuracy')} |",
                  f"| majority class per attribute | {s['majority_mean_accuracy']:.4f} | "
                  f"{s['majority_mean_balanced_accuracy']:.4f} |", ""]  # fmt: skip
        if said:
            drawn = (f"the {said['groups']} people of the {said['n']} faces scored, each with all their faces"
                     if said.get("groups") else f"the {said['n']} faces scored")  # fmt: skip
            rare = said.get("rare_class_attributes") or []
            lines += [f"In brackets: the {said['confidence']:.0%} confidence interval, the percentile bootstrap over "
                      f"{said['resamples']} resamples of {drawn} (lnet_anet.metrics.intervals): the values of the "
                      "figure on images of this kind that these images are consistent with, not the range of a second "
                      "run." + (f" The balanced means have none: {len(rare)} attribute(s) have fewer than 10 faces of a "
                                "class here, and a resample without it lifts the mean." if rare else ""), ""]  # fmt: skip
        if s.get("one_class_attributes"):  # a small sample: those attributes' balanced accuracy is one class's rate
            lines += [f"Attributes with one class only among the images scored ({', '.join(s['one_class_attributes'])}): "
                      "their balanced accuracy is that class's rate, which "
                      "lifts the means (the majority class's above 0.5); at the bundle's decisions, over the "
                      f"attributes with both classes: {s['decisions_balanced_both_classes']:.4f}.", ""]  # fmt: skip
        if "calibration" in s:  # results from before the calibration figures: without them
            lines += [f"Expected calibration error (ECE) of the probabilities, the attributes pooled "
                      f"({s['calibration']['n_bins']} bins): {s['calibration']['ece']:.4f} (reliability.png).", ""]
        ece = all("ece" in a for a in s["per_attribute"].values())
        lines += ["| attribute | accuracy | balanced accuracy | positive rate |" + (" ECE |" if ece else ""),
                  "|---|---|---|---|" + ("---|" if ece else "")]  # fmt: skip
        lines += [f"| {n} | {a['accuracy']:.4f} | {a['balanced_accuracy']:.4f} | {a['positive_rate']:.3f} |"
                  + (f" {a['ece']:.4f} |" if ece else "") for n, a in s["per_attribute"].items()]  # fmt: skip
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
    ap.add_argument("--intervals", type=int, default=RESAMPLES, metavar="N",
                    help=f"bootstrap resamples for the 95%% intervals of the mean accuracies (default: {RESAMPLES}; 0: none)")
    ap.add_argument("--out", type=Path, default=None, help="the results folder (default: runs/bench_attributes/<data>-<split>-<time>)")
    args = ap.parse_intermixed_args(argv)  # settings may come before and after the options
    if args.limit is not None and args.limit < 1:
        ap.error(f"--limit must be at least 1, got {args.limit}")
    if args.batch_size < 1:
        ap.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.intervals < 0:
        ap.error(f"--intervals must be 0 (none) or a number of resamples, got {args.intervals}")
    if not args.root.is_dir():
        ap.error(f"--root {args.root}: no such folder")
    if not args.bundle.is_file():
        ap.error(f"--bundle {args.bundle}: no such file")
    try:
        cfg = dataset_config(args.data, args.root, args.settings)
    except ValueError as e:
        ap.error(str(e))
    split = args.split or cfg.get("eval_split") or "val"
    try:  # before the data is read: a file that is not a bundle is said at once
        predictor = Predictor.load(args.bundle)
    except (BundleError, FileNotFoundError) as e:  # the message names the file
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings(record=True) as caught:  # kept for results.json, and said below
            warnings.simplefilter("always")
            index = build_index(cfg)
    except InstantiationException as e:  # hydra.utils.instantiate wraps what the reader raised
        print(f"error: {reader_error(e, cfg)}", file=sys.stderr)
        return 2
    except USER_ERRORS as e:  # build_index's own checks (a holdout rule, a limit)
        print(f"error: {e}", file=sys.stderr)
        return 2
    reader_warnings = [str(w.message) for w in caught]
    for message in reader_warnings:
        print(f"warning: {message}", file=sys.stderr)
    if split not in set(index["split"]):
        ap.error(f"{args.root}: {no_rows_error(split, index['split'], override='--split')}")
    part = split_of(index, split).reset_index(drop=True)
    part = part.iloc[: args.limit] if args.limit else part
    names = [n for n in predictor.attributes if n in index.columns]
    left_out = [n for n in predictor.attributes if n not in index.columns]
    if not names:
        ap.error(f"the labels of {args.root} name none of the bundle's attributes ({', '.join(predictor.attributes[:5])}, ...)")
    thresholds = np.asarray(predictor.bundle.svm.threshold)[[predictor.attributes.index(n) for n in names]]
    train = index[index["split"] == "train"]
    faces, unreadable = top_faces(predictor, part["path"].tolist(), args.batch_size)
    say_left_out(unreadable, "unreadable")
    if len(unreadable) == len(part):
        u = unreadable[0]
        print(f"error: none of the {len(part)} {split} images of {args.root} can be read (the first: {u['path']}: "
              f"{u['reason']}); is the image folder right (data.index.images=)?", file=sys.stderr)  # fmt: skip
        return 2
    readable = ~part["path"].isin({u["path"] for u in unreadable}).to_numpy()
    scores = score(faces, part.loc[readable, names].to_numpy(), names, thresholds,
                   train[names].to_numpy() if len(train) else None, args.intervals,
                   part.loc[readable, "identity"].to_numpy() if "identity" in part else None)  # fmt: skip
    date = dt.date.today().isoformat()
    out = args.out or runs_root() / "bench_attributes" / f"{args.data}-{split}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    record = {"command": shlex.join(["python", "benchmarks/bench_attributes.py", *(argv if argv is not None else sys.argv[1:])]),
              "date": date, "data": {"name": args.data, "root": str(args.root), "split": split, "n_images": len(part)},
              "bundle": {"path": str(args.bundle), "identity": predictor.bundle.identity},
              "left_out_attributes": left_out, "unreadable": unreadable, "reader_warnings": reader_warnings,
              "left_out_rows": list(index.attrs.get("skipped", [])), "scores": scores, "machine": machine()}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "results.md").write_text(markdown(record))
    wrote = [out / "results.md", out / "results.json"]
    found, probs = probabilities(faces, names)
    if found.any():  # the probabilities and their labels, drawn
        from lnet_anet.engine.plots import plot_reliability

        labels = part.loc[readable, names].to_numpy()[found].astype(bool)
        wrote.append(plot_reliability({ARM: (probs, labels)}, names, out / "reliability.png",
                                      f"{args.data} {split}", N_BINS, WORST))  # fmt: skip
    print(markdown(record).split("\n\n| attribute")[0])
    print(f"wrote {', '.join(map(str, wrote[:-1]))} and {wrote[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
