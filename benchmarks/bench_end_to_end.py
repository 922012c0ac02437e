"""Attributes, age and their stability measured end to end: `Predictor` on the image files as shipped.

    python benchmarks/bench_end_to_end.py [--bundle [LABEL=]FILE ...] [--part val|tune]
        [--datasets ../shared/datasets] [--limit N] [--scut N] [--stability 200]
        [--perturb NAME ...] [--probe-train 6000] [--framings 200] [--sets attributes age] [--out DIR]
    python benchmarks/bench_end_to_end.py --merge A/results.json B/results.json --out DIR

Every figure here goes through `Predictor.predict_many` on the val files (celeba_hq128's val
partition, the UTKFace 20% hold-out, SCUT-FBP5500 folds 3-5 of fold_of(name, 5, seed 0)): LNet
finds the face, ANet and the heads read its crop. `--part tune` reads tune parts of the TRAIN
partitions instead (random celeba_hq128 train-partition files, random UTKFace train-part chips,
SCUT folds 1-2; the ANet and age net were trained on those files, so their accuracy there is
in-sample: compare bundles there, never with the val figures). Several `--bundle`s are scored
side by side on the same files (the ground-truth crops and the probe once, with the first).
SCUT images (`--scut`, 0: skip) count only whether a face is found (the attractiveness figures
are benchmarks/bench_attractiveness.py's). Beside them, in the same run:
- the same bundle on the ground-truth crops (the aligned file handed straight to ANet / the age net,
  as benchmarks/bench_default.py measures): the cost of localization;
- a linear probe: a frozen ImageNet EfficientNet-Lite0 (global-average features of the aligned
  128 px face) with one logistic regression per attribute, fitted on `--probe-train` train faces;
- the constant baselines (majority class per attribute; the train median age);
- age on photos framed as photos, a proxy: CelebA-HQ files have no ages, so the predicted age is
  set against CelebA's "Young" tag (ROC AUC, median age per group);
- a diagnostic of framing (`--framings` chips, given boxes, LNet skipped): the same chip read
  through a box of 1x (about LNet's box on a chip) and 1.7x the chip (what LNet's box takes in on
  a photo: hair, surroundings): a head that reads the same face as the same age at both.
Per image, the face the predictor scores highest is the one scored; an image with no face counts in
the "found" share and is left out of the accuracy (its share is reported beside it).

In brackets beside the headline figures, their 95% confidence intervals (lnet_anet.metrics.intervals):
the share of files with a face, Clopper-Pearson; attribute accuracy (mean and balanced), age MAE,
bias and within 1 std (overall and by wide band) and the stability rows' median and p95 |Δ age| and
decisions flipped, the percentile bootstrap (`--intervals` resamples of the files scored; a CelebA
identity's files drawn together). The range of values of the figure on files of the kind scored
that the files scored are consistent with; not the range of a second run.

Stability (`--stability` UTKFace hold-out faces): each file is perturbed (JPEG q95 and q75 re-saves,
shifts by 4 px, scale x0.9 / x1.1, brightness x0.6 / x1.5, grayscale, 128 -> 256 px) and run again;
per perturbation: |delta age| (median, 95th percentile), the share of attribute decisions that
flip, and the IoU of the face box with the original's (mapped into the same pixels).

`--sets` chooses what is scored (default both): `attributes` (celeba_hq128 files, the linear probe,
the age-against-Young proxy) needs only celeba_hq128, `age` (UTKFace chips, the framings and
stability rows) only utkface128. Writes results.{json,md} into --out (default
runs/bench_end_to_end/<date>-<time>), files.json (the files scored per set, under --datasets: --limit
draws each part's files by a hash of their names, seed 0 for val and 1 for tune: lnet_anet.data.from_config.draw_by_name), faces_<label>.jsonl.gz per bundle
(each scored file's top face as the Predictor gave it, so every figure can be scored again), and
with the age rows age_errors_<label>.png per bundle
(predicted against true age, MAE by band, CS(theta), the share within 1 and 2 std by band). A
chosen set whose data is missing under --datasets is named, with the --sets that would run, and
the script stops (exit 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import re
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_default import data_cfg, mean_features  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from lnet_anet.cli.arguments import bundle_refusal  # noqa: E402
from lnet_anet.data import datasets_root, runs_root
from lnet_anet.data.dataset import collate_skip_bad  # noqa: E402
from lnet_anet.data.from_config import build_index, draw_by_name, face_dataset, split_of  # noqa: E402
from lnet_anet.data.readers.age import fold_of  # noqa: E402
from lnet_anet.data.readers.attractiveness import read_scut_fbp5500  # noqa: E402
from lnet_anet.dldl.descriptor import DescriptorHead  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402
from lnet_anet.metrics.age import estimate_intervals, regression_metrics  # noqa: E402
from lnet_anet.metrics.attributes import attribute_intervals, attribute_metrics  # noqa: E402
from lnet_anet.metrics.intervals import (  # noqa: E402
    MIN_ITEMS,
    RESAMPLES,
    enough_units,
    format_interval,
    named_intervals,
    share_interval,
)

REPO = Path(__file__).resolve().parents[1]
AGE_BANDS = ((0, 12), (13, 19), (20, 39), (40, 59), (60, 200))
WIDE_BANDS = ((0, 12), (13, 59), (60, 200))  # issue 15's bands
CS_YEARS = range(1, 11)  # CS(θ): the share of ages within θ years
SCUT_FOLDS = {"val": (3, 4, 5), "tune": (1, 2)}
SAMPLE_SEED = {"val": 0, "tune": 1}
SETS = ("attributes", "age")  # --sets: what is scored, each on its own data under --datasets
SET_DATA = {"attributes": "celeba_hq128", "age": "utkface128"}


def attributes_on_crops(bundle, datasets: Path, sample, train_labels: np.ndarray) -> dict:
    """The bundle's ANet + SVMs on the aligned files handed straight to ANet (the training
    framing: the whole file), as benchmarks/bench_default.py measures, on `sample`'s files."""
    names = bundle.attributes
    dataset = face_dataset(data_cfg("celeba_hq", datasets), sample, train=False,
                           image_size=bundle.preprocessing["anet"]["canonical_size"], attributes=names)  # fmt: skip
    feats, labels, _ = mean_features(bundle, dataset)
    m = attribute_metrics(bundle.svm.decide(bundle.svm.probabilities(feats.numpy())), labels, names, train_labels)
    return {k: m[k] for k in ("mean_accuracy", "mean_balanced_accuracy", "majority_mean_accuracy", "n_images")}


@torch.no_grad()
def age_on_crops(bundle, datasets: Path, sample) -> dict:
    """The bundle's age net on the UTKFace chips handed straight to it (a crop-reading net)."""
    if bundle.age is None or bundle.preprocessing["age"].get("input") == "anet_features":
        return {"note": "not a crop-reading age net"}
    prep = bundle.preprocessing["age"]
    dataset = face_dataset(data_cfg("utkface", datasets), sample.reset_index(drop=True), train=False,
                           image_size=prep["image_size"], mean=prep["mean"], std=prep["std"])  # fmt: skip
    preds, ages = [], []
    for batch in DataLoader(dataset, batch_size=64, num_workers=2, collate_fn=collate_skip_bad):
        if batch is not None:
            preds.append(bundle.age.head.predict(bundle.age(batch["image"])["logits"])["mean"])
            ages.append(batch["age"])
    pred, ages = torch.cat(preds).numpy(), torch.cat(ages).numpy()
    m = regression_metrics(pred, ages)
    err = pred - ages
    bands = {_band_label(lo, hi): {"n": int(sel.sum()), "mae": float(np.abs(err[sel]).mean()),
                                              "bias": float(err[sel].mean())}
             for lo, hi in WIDE_BANDS if (sel := (ages >= lo) & (ages <= hi)).any()}  # fmt: skip
    return {**{k: m[k] for k in ("mae", "rmse", "n")}, "bias": float(err.mean()), "by_wide_band": bands}


def faces_found(predictor: Predictor, paths: list[str], keep: list | None = None, resamples: int = RESAMPLES) -> dict:
    faces = top_faces(predictor, paths, desc="SCUT files", keep=keep)
    found = np.array([f is not None for f in faces])
    return {"n_images": len(paths), "found": float(found.mean()), "found_interval": _found_interval(found, resamples)}


def _found_interval(found: np.ndarray, resamples: int) -> list[float] | None:
    """The exact (Clopper-Pearson) 95% interval of the share of files with a face (None: --intervals 0,
    or no file): exact, since the bootstrap gives [1, 1] when every file has one."""
    return share_interval(int(found.sum()), len(found)) if resamples and len(found) else None


def top_faces(predictor: Predictor, paths: list, batch_size: int = 8, desc: str | None = None,
              keep: list | None = None) -> list[dict | None]:  # fmt: skip
    """The highest-scoring face of each file (None: no face found, or an error); `desc`: a
    progress bar so named on a terminal (a 2,000-file set takes minutes); `keep`: a list that
    gets (path, face) for each file, for the run's per-file record (faces_<bundle>.jsonl.gz)."""
    out = []
    records = predictor.predict_many(paths, batch_size=batch_size)
    for record in tqdm(records, total=len(paths), desc=desc, dynamic_ncols=True, disable=None if desc else True):
        faces = record["faces"]
        out.append(max(faces, key=lambda f: f["score"]) if faces else None)
    if keep is not None:
        keep += list(zip(map(str, paths), out, strict=True))
    return out


def attributes_end_to_end(predictor: Predictor, val, names: list[str], train_labels: np.ndarray,
                          keep: list | None = None, resamples: int = RESAMPLES) -> dict:  # fmt: skip
    """Attribute accuracy of each file's top face at p >= 0.5 and at the bundle's decisions, with
    bootstrap intervals (faces resampled, a person's together when the data names identities;
    `resamples` 0: none) and the share of files with a face, with its exact interval."""
    faces = top_faces(predictor, val["path"].tolist(), desc="CelebA-HQ files", keep=keep)
    found = np.array([f is not None for f in faces])
    labels = val[names].to_numpy()[found]
    probs = np.array([[f["attributes"][n] for n in names] for f in faces if f is not None])
    thresholds = predictor.bundle.svm.threshold
    at_half = attribute_metrics(probs >= 0.5, labels, names, train_labels)
    at_bundle = attribute_metrics(probs >= thresholds, labels, names, train_labels)
    ages = np.array([f["age"]["mean"] if f["age"] is not None else np.nan for f in faces if f is not None])
    intervals, people = None, (val["identity"].to_numpy()[found] if "identity" in val else None)
    if resamples and enough_units(len(labels), people):
        intervals = attribute_intervals({"bundle_thresholds": probs >= thresholds, "p_ge_0.5": probs >= 0.5}, labels,
                                        resamples, groups=people, names=names)  # fmt: skip
    return {"n_images": len(val), "found": float(found.mean()), "found_interval": _found_interval(found, resamples),
            "intervals": intervals,
            "p_ge_0.5": {k: at_half[k] for k in ("mean_accuracy", "mean_balanced_accuracy", "majority_mean_accuracy")},
            "bundle_thresholds": {k: at_bundle[k] for k in ("mean_accuracy", "mean_balanced_accuracy",
                                                             "mean_balanced_accuracy_both_classes", "one_class_attributes")},
            "age_vs_young": age_vs_young(ages, labels[:, names.index("Young")]) if "Young" in names else None}  # fmt: skip


def age_vs_young(ages: np.ndarray, young: np.ndarray) -> dict | None:
    """A proxy for age on photos framed as photos (CelebA-HQ files carry no ages): the predicted
    age against CelebA's "Young" tag (a rater's yes / no). ROC AUC of the age for "not Young",
    the median age of each group, and the share of "Young" faces given 45 years or more."""
    from sklearn.metrics import roc_auc_score

    ok = np.isfinite(ages)
    ages, young = ages[ok], young[ok].astype(bool)
    if not len(ages) or young.all() or not young.any():
        return None
    return {"n": int(len(ages)), "auc_not_young": float(roc_auc_score(~young, ages)),
            "median_age_young": float(np.median(ages[young])), "median_age_not_young": float(np.median(ages[~young])),
            "young_given_45_plus": float((ages[young] >= 45).mean())}  # fmt: skip


PHOTO_FRAMING = 1.7  # LNet's box on photos / a tight face box (MTCNN's), median on CelebA-HQ, CelebA and SCUT files


def age_at_framings(predictor: Predictor, held, scales=(1.0, 1.35, PHOTO_FRAMING)) -> dict:
    """Diagnostic (given boxes, LNet skipped): the UTKFace chips read through boxes of `scales`
    times the chip, centred. 1.0 is about LNet's box on a chip (the chip is a tight face crop);
    PHOTO_FRAMING is how much more LNet's box takes in on a photo of the same face (hair,
    surroundings): a head that reads the same face at both framings as the same age."""
    true = held["age"].to_numpy(np.float64)
    preds = []  # (chips, scales): each chip read once, its boxes of every scale in one pass
    for path in held["path"]:
        w, h = Image.open(path).size
        halves = [scale * max(w, h) / 2 for scale in scales]
        boxes = [[w / 2 - half, h / 2 - half, w / 2 + half, h / 2 + half] for half in halves]
        preds.append([face["age"]["mean"] for face in predictor.analyse_boxes(path, boxes, kind="region")])
    err = np.array(preds).reshape(len(true), len(scales)) - true[:, None]
    return {f"{scale:g}": {"n": int(len(err)), "mae": float(np.abs(err[:, k]).mean()), "bias": float(err[:, k].mean())}
            for k, scale in enumerate(scales)}  # fmt: skip


@torch.no_grad()
def linear_probe(train, val, names: list[str], train_labels: np.ndarray) -> dict:
    """Frozen ImageNet Lite0 features of the aligned files, one logistic regression per attribute."""
    from sklearn.linear_model import LogisticRegression

    from lnet_anet.data.images import read_image
    from lnet_anet.data.preprocess import Normalize
    from lnet_anet.models.backbones import create_backbone

    net = create_backbone(pretrained="package").eval()
    normalize = Normalize()

    def features(paths: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(paths), 64):
            x = torch.from_numpy(np.stack([normalize(read_image(p)) for p in paths[i:i + 64]]))
            out.append(net.forward_features(x).mean((2, 3)).numpy())
        return np.concatenate(out)

    f_train, f_val = features(train["path"].tolist()), features(val["path"].tolist())
    mu, sd = f_train.mean(0), f_train.std(0) + 1e-6
    f_train, f_val = (f_train - mu) / sd, (f_val - mu) / sd
    y_train, y_val = train[names].to_numpy(), val[names].to_numpy()
    pred = np.zeros_like(y_val, dtype=bool)
    for j in range(len(names)):
        if len(np.unique(y_train[:, j])) < 2:
            pred[:, j] = bool(y_train[0, j])
            continue
        clf = LogisticRegression(C=0.1, max_iter=2000).fit(f_train, y_train[:, j])
        pred[:, j] = clf.predict_proba(f_val)[:, 1] >= 0.5
    m = attribute_metrics(pred, y_val, names, train_labels)
    return {"n_train": len(train), **{k: m[k] for k in ("mean_accuracy", "mean_balanced_accuracy")}}


def age_end_to_end(predictor: Predictor, held, train_median: float, picture: Path | None = None,
                   title: str = "", keep: list | None = None, resamples: int = RESAMPLES) -> dict:  # fmt: skip
    """The age of each chip's top face against its label: MAE, bias, the share within 1 and 2 std,
    by band, and the cumulative score CS(θ) (the share with |error| <= θ years, θ = 1..10); the
    bootstrap intervals of MAE, bias, the share within 1 std and each wide band's MAE and bias
    (chips resampled; `resamples` 0: none); with
    `picture`, those ages drawn there too (lnet_anet.engine.plots.plot_age_errors, headed
    `title`); `keep`: as top_faces'."""
    faces = top_faces(predictor, held["path"].tolist(), desc="UTKFace chips", keep=keep)
    found = np.array([f is not None and f["age"] is not None for f in faces])
    true = held["age"].to_numpy(np.float64)[found]
    mean = np.array([f["age"]["mean"] for f in faces if f is not None and f["age"] is not None])
    std = np.array([f["age"]["std"] for f in faces if f is not None and f["age"] is not None])
    err = mean - true
    bands = {}
    for lo, hi in AGE_BANDS:
        sel = (true >= lo) & (true <= hi)
        if sel.any():
            bands[_band_label(lo, hi)] = {
                "n": int(sel.sum()), "mae": float(np.abs(err[sel]).mean()), "bias": float(err[sel].mean()),
                "within_1_std": float((np.abs(err[sel]) <= std[sel]).mean()),
                "within_2_std": float((np.abs(err[sel]) <= 2 * std[sel]).mean())}  # fmt: skip
    wide = {}
    for lo, hi in WIDE_BANDS:
        sel = (true >= lo) & (true <= hi)
        if sel.any():
            wide[_band_label(lo, hi)] = {
                "n": int(sel.sum()), "mae": float(np.abs(err[sel]).mean()), "bias": float(err[sel].mean()),
                "within_1_std": float((np.abs(err[sel]) <= std[sel]).mean())}  # fmt: skip
    intervals = None
    if resamples and len(err) >= MIN_ITEMS:
        ranges = [(_band_label(lo, hi), lo, hi + 1) for lo, hi in WIDE_BANDS]
        intervals = estimate_intervals(mean, true, std, ranges, resamples, unit="chips")
    return {"n_images": len(held), "found": float(found.mean()), "found_interval": _found_interval(found, resamples),
            "mae": float(np.abs(err).mean()), "intervals": intervals,
            "bias": float(err.mean()), "within_1_std": float((np.abs(err) <= std).mean()),
            "within_2_std": float((np.abs(err) <= 2 * std).mean()),
            "median_baseline_mae": float(np.abs(true - train_median).mean()), "by_band": bands,
            "cs": {str(t): float((np.abs(err) <= t).mean()) if len(err) else float("nan") for t in CS_YEARS},
            "by_wide_band": wide} | (_draw_age_errors(mean, std, true, picture, title) if picture else {})  # fmt: skip


def _band_label(lo: int, hi: int) -> str:
    """results.json's name of an age band: "0-12", "60-" (the last band, open above)."""
    return f"{lo}-{hi if hi < 200 else ''}"


def _draw_age_errors(mean: np.ndarray, std: np.ndarray, true: np.ndarray, picture: Path, title: str) -> dict:
    """{"picture": its file name} once drawn; {} when no face was found (nothing to draw)."""
    from lnet_anet.engine.plots import plot_age_errors

    if not len(mean):
        return {}
    return {"picture": plot_age_errors(mean, std, true, picture, title).name}


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


PERTURBATIONS = ("jpeg_q95", "jpeg_q75", "shift_x_4px", "shift_y_4px", "brightness_x0.6", "brightness_x1.5",
                 "grayscale", "scale_x0.9", "scale_x1.1", "resize_256px")  # perturbations' names, in their order


def perturbations(img: Image.Image) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (perturbed RGB uint8 array, the affine map (sx, sy, tx, ty) from original pixels
    into the perturbed image's pixels: x' = sx * x + tx)."""
    w, h = img.size
    arr = np.asarray(img)
    ident = np.array([1.0, 1.0, 0.0, 0.0])
    out = {"jpeg_q95": (np.asarray(_jpeg(img, 95)), ident), "jpeg_q75": (np.asarray(_jpeg(img, 75)), ident),
           "shift_x_4px": (arr[:, 4:], np.array([1.0, 1.0, -4.0, 0.0])),
           "shift_y_4px": (arr[4:, :], np.array([1.0, 1.0, 0.0, -4.0])),
           "brightness_x0.6": (np.clip(arr * 0.6, 0, 255).astype(np.uint8), ident),
           "brightness_x1.5": (np.clip(arr * 1.5, 0, 255).astype(np.uint8), ident),
           "grayscale": (np.asarray(img.convert("L").convert("RGB")), ident)}  # fmt: skip
    for name, s in (("scale_x0.9", 0.9), ("scale_x1.1", 1.1), ("resize_256px", 256 / max(w, h))):
        size = (round(w * s), round(h * s))
        out[name] = (np.asarray(img.resize(size, Image.Resampling.BICUBIC)), np.array([size[0] / w, size[1] / h, 0, 0]))
    return out


def stability(predictor: Predictor, paths: list[str], only: list[str] | None = None, resamples: int = RESAMPLES) -> dict:
    """Per perturbation (perturbations()), over the faces found on the original file: |Δ age| (median,
    95th percentile), the share of attribute decisions that flip, the share found again and the
    median box IoU; with the bootstrap intervals of the first three (faces resampled; 0: none)."""
    names = predictor.attributes
    thresholds = predictor.bundle.svm.threshold
    rows: dict[str, dict[str, list[float]]] = {}
    for path in tqdm(paths, desc="stability", dynamic_ncols=True, disable=None):
        img = Image.open(path).convert("RGB")
        base = top_faces(predictor, [np.asarray(img)])[0]
        if base is None:
            continue
        variants = {k: v for k, v in perturbations(img).items() if not only or k in only}
        got = top_faces(predictor, [v for v, _ in variants.values()])
        for (name, (_, (sx, sy, tx, ty))), face in zip(variants.items(), got, strict=True):
            r = rows.setdefault(name, {"found": [], "d_age": [], "flips": [], "iou": []})
            r["found"].append(face is not None)
            if face is None:
                continue
            if base["age"] is not None:
                r["d_age"].append(abs(face["age"]["mean"] - base["age"]["mean"]))
            p0 = np.array([base["attributes"][n] for n in names]) >= thresholds
            p1 = np.array([face["attributes"][n] for n in names]) >= thresholds
            r["flips"].append(float((p0 != p1).mean()))
            b0 = np.array(base["box"]) * [sx, sy, sx, sy] + [tx, ty, tx, ty]
            r["iou"].append(float(box_iou(torch.tensor([b0]), torch.tensor([face["box"]]))[0, 0]))
    summary = {}
    for name, r in rows.items():
        d = np.array(r["d_age"]) if r["d_age"] else np.array([np.nan])
        summary[name] = {"faces": len(r["found"]), "found": float(np.mean(r["found"])),
                         "median_abs_d_age": float(np.median(d)), "p95_abs_d_age": float(np.percentile(d, 95)),
                         "decisions_flipped": float(np.mean(r["flips"])) if r["flips"] else float("nan"),
                         "median_box_iou": float(np.median(r["iou"])) if r["iou"] else float("nan"),
                         "intervals": _stability_intervals(np.array(r["d_age"]), np.array(r["flips"]), resamples)}  # fmt: skip
    return summary


def _stability_intervals(d_age: np.ndarray, flips: np.ndarray, resamples: int) -> dict | None:
    """stability()'s bootstrap intervals of one perturbation's figures (None: 0 resamples or < MIN_ITEMS faces)."""
    if not resamples or min(len(d_age), len(flips)) < MIN_ITEMS:
        return None
    age = named_intervals(lambda idx: [np.median(d_age[idx]), np.percentile(d_age[idx], 95)],
                          ["median_abs_d_age", "p95_abs_d_age"], len(d_age), "faces", resamples)  # fmt: skip
    flipped = named_intervals(lambda idx: flips[idx].mean(), ["decisions_flipped"], len(flips), "faces", resamples)
    return age | {"decisions_flipped": flipped["decisions_flipped"]}


def _f(v, fmt: str) -> str:
    """A figure as `fmt` says, or (figure, [low, high]) as "figure [low, high]" (its interval)."""
    if isinstance(v, tuple):
        return format_interval(*v, fmt)
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, fmt)


def _found_cell(part: dict) -> tuple:
    """(the share of files with a face, its exact interval): a cell of _f."""
    return part["found"], part.get("found_interval")


def _with_interval(part: dict, key: str, value=None) -> tuple:
    """(value, default part[key]; the interval recorded under `key` in part["intervals"]): a cell of _f."""
    return (part.get(key) if value is None else value), ((part.get("intervals") or {}).get(key))


def markdown(results: dict) -> str:
    labels = list(results["bundles"])
    per = results["bundles"]
    gt_a, gt_g = results["ground_truth_crops"].get("attributes"), results["ground_truth_crops"].get("age")
    head = "| | " + " | ".join(labels) + " |"
    rule = "|---|" + "---|" * len(labels)

    def row(name: str, get, fmt: str) -> str:
        return f"| {name} | " + " | ".join(_f(get(per[b]), fmt) for b in labels) + " |"

    lines = [f"# End to end through Predictor ({results['date']}, part: {results['part']})", "",
             f"Command: `{results['command']}` (torch threads: {results['threads']})", "",
             *([f"Datasets: `{results['datasets']}`", ""] if results.get("datasets") else []),
             f"Machine: {results['machine']}", "", "Bundles:", ""]
    first = per[labels[0]].get("lnet_input") or {}

    def differs(b: str) -> str:  # the LNet input settings where a bundle differs from the first one
        mine = per[b].get("lnet_input") or {}
        changed = {k: mine.get(k) for k in sorted(set(first) | set(mine)) if mine.get(k) != first.get(k)}
        return f"; LNet input beside {labels[0]}: `{json.dumps(changed)}`" if changed else ""

    lines += [f"- **{b}**: `{per[b]['bundle']}` (bundle {per[b].get('identity', '?')}, model {per[b].get('model', '?')}, "
              f"tensors {per[b].get('digest', '?')}, LNet scales {per[b]['scales']}, "
              f"cascade {'yes' if per[b]['cascade'] else 'no'}{differs(b)})" for b in labels]  # fmt: skip
    lines += ["", "## Faces found", "", head, rule]
    if gt_g is not None:
        lines.append(row(f"UTKFace chips ({results['n']['utkface']})", lambda r: _found_cell(r["age"]), ".4f"))
    if gt_a is not None:
        lines.append(row(f"CelebA-HQ files ({results['n']['celeba_hq']})", lambda r: _found_cell(r["attributes"]), ".4f"))
    if "scut" in per[labels[0]]:
        lines.append(row(f"SCUT-FBP5500 images ({results['n']['scut']})", lambda r: _found_cell(r["scut"]), ".4f"))
    if gt_a is not None:
        lines += _attribute_lines(results, row, head, rule)
    if gt_g is not None:
        lines += _age_lines(results, row, head, rule)
    return "\n".join(lines) + "\n"


def _attribute_lines(results: dict, row, head: str, rule: str) -> list[str]:
    """markdown()'s attribute section."""
    per, gt_a = results["bundles"], results["ground_truth_crops"]["attributes"]
    def figure(rule_name: str, key: str):
        return lambda r: _with_interval(r["attributes"], f"{rule_name}/{key}", value=r["attributes"][rule_name][key])

    lines = ["", "## Attributes, celeba_hq128 files (the top face of each file; files with none left out)", "",
              *_interval_note(per, "attributes"), head, rule,
              row("mean accuracy, the bundle's decisions", figure("bundle_thresholds", "mean_accuracy"), ".4f"),
              row("mean balanced accuracy, the bundle's decisions", figure("bundle_thresholds", "mean_balanced_accuracy"), ".4f"),
              row("mean accuracy, p >= 0.5", figure("p_ge_0.5", "mean_accuracy"), ".4f"),
              row("mean balanced accuracy, p >= 0.5", figure("p_ge_0.5", "mean_balanced_accuracy"), ".4f"),
              *_one_class_lines(per),
              "", f"Ground-truth crops (diagnostic, the aligned file handed to ANet): mean accuracy "
              f"{gt_a['mean_accuracy']:.4f} / balanced {gt_a['mean_balanced_accuracy']:.4f}; majority class "
              f"{gt_a['majority_mean_accuracy']:.4f}."]  # fmt: skip
    if "linear_probe" in results:
        lp = results["linear_probe"]
        lines[-1] += (f" Linear probe (frozen ImageNet Lite0 + logistic regression, {lp['n_train']} train faces): "
                      f"{lp['mean_accuracy']:.4f} / {lp['mean_balanced_accuracy']:.4f}.")  # fmt: skip
    labels = list(per)
    if per[labels[0]]["attributes"].get("age_vs_young"):
        lines += ["", "Age on photos framed as photos, a proxy (CelebA-HQ files carry no ages; CelebA's \"Young\" tag "
                  "is a rater's yes / no):", "", head, rule,
                  row("ROC AUC of the age for not Young", lambda r: (r["attributes"].get("age_vs_young") or {}).get("auc_not_young"), ".3f"),
                  row("median age, Young", lambda r: (r["attributes"].get("age_vs_young") or {}).get("median_age_young"), ".1f"),
                  row("median age, not Young", lambda r: (r["attributes"].get("age_vs_young") or {}).get("median_age_not_young"), ".1f"),
                  row("Young given 45 years or more", lambda r: (r["attributes"].get("age_vs_young") or {}).get("young_given_45_plus"), ".3f")]  # fmt: skip
    return lines


def _interval_note(per: dict, part: str) -> list[str]:
    """The line that says what the brackets of the `part` section ("attributes", "age") are
    (none when no interval was computed)."""
    for r in per.values():
        said = (r.get(part) or {}).get("intervals")
        if said:
            drawn = (f"the {said['groups']} {said['resampled']} of the {said['n']} {said['unit']} scored, each with all "
                     "its faces" if said.get("groups") else f"the {said['n']} {said['unit']} scored")  # fmt: skip
            rare = said.get("rare_class_attributes")
            return [f"In brackets: the {said['confidence']:.0%} confidence interval, the percentile bootstrap over "
                    f"{said['resamples']} resamples of {drawn} (lnet_anet.metrics.intervals): the values of the figure "
                    "on files of this kind that these files are consistent with (not the range of a second run). "
                    "A figure without brackets has none: a band some resamples miss"
                    + (f", or a balanced mean with attributes of fewer than 10 faces of a class ({len(rare)}: "
                       f"{', '.join(map(str, rare[:5]))}{', ...' if len(rare) > 5 else ''})" if rare else "") + ".", ""]  # fmt: skip
    return []


def _one_class_lines(per: dict) -> list[str]:
    """The attributes with one class only among the files scored (a small --limit): named, with the
    balanced mean over the others, since the metric counts the one class's rate for them."""
    decided = per[next(iter(per))]["attributes"]["bundle_thresholds"]
    if not decided.get("one_class_attributes"):
        return []
    return ["", f"Attributes with one class only among the files scored ({', '.join(decided['one_class_attributes'])}): "
            "their balanced accuracy is that class's rate, which lifts the means; at the bundle's decisions, over "
            f"the attributes with both classes: {decided['mean_balanced_accuracy_both_classes']:.4f} "
            f"({next(iter(per))})."]  # fmt: skip


def _age_lines(results: dict, row, head: str, rule: str) -> list[str]:
    """markdown()'s age and stability sections."""
    per, gt_g = results["bundles"], results["ground_truth_crops"]["age"]
    labels = list(per)
    lines = ["", "## Age, UTKFace chips (the top face of each chip; chips with none left out)", "",
              *_interval_note(per, "age"), head, rule,
              row("MAE", lambda r: _with_interval(r["age"], "mae"), ".3f"), row("bias", lambda r: _with_interval(r["age"], "bias"), "+.2f"),
              row("within 1 std", lambda r: _with_interval(r["age"], "within_1_std"), ".3f"),
              row("within 2 std", lambda r: r["age"]["within_2_std"], ".3f"),
              row("CS(5): within 5 years", lambda r: r["age"].get("cs", {}).get("5"), ".3f"),
              row("CS(10): within 10 years", lambda r: r["age"].get("cs", {}).get("10"), ".3f")]  # fmt: skip
    for band in per[labels[0]]["age"]["by_wide_band"]:
        said = band[:-1] + "+" if band.endswith("-") else band  # "60-" in results.json, "60+" as README says
        for key, fmt in (("mae", ".2f"), ("bias", "+.2f")):
            lines.append(row(f"{said}: {'MAE' if key == 'mae' else key}",
                             lambda r, b=band, k=key: _with_interval(r["age"], f"{b}/{k}", value=r["age"]["by_wide_band"].get(b, {}).get(k)),
                             fmt))  # fmt: skip
        lines.append(row(f"{said}: within 1 std", lambda r, b=band: r["age"]["by_wide_band"].get(b, {}).get("within_1_std"), ".3f"))
        lines.append(row(f"{said}: faces", lambda r, b=band: r["age"]["by_wide_band"].get(b, {}).get("n"), "d"))
    if per[labels[0]].get("age_at_framings"):
        lines += ["", "Diagnostic, given boxes (LNet skipped): UTKFace chips read through a centred box of k x the chip "
                  f"(1: about LNet's box on a chip; {PHOTO_FRAMING:g}: what LNet's box takes in around a face on a photo):",
                  "", head, rule]  # fmt: skip
        for k in per[labels[0]]["age_at_framings"]:
            lines.append(row(f"box {k}x: MAE", lambda r, k=k: (r.get("age_at_framings") or {}).get(k, {}).get("mae"), ".2f"))
            lines.append(row(f"box {k}x: bias", lambda r, k=k: (r.get("age_at_framings") or {}).get(k, {}).get("bias"), "+.2f"))
    gt_bands = "; ".join(f"{b}: {v['mae']:.2f} ({v['bias']:+.2f})" for b, v in gt_g.get("by_wide_band", {}).items())
    lines += ["", f"Ground-truth crops (diagnostic, the chip handed to the age net): MAE {_f(gt_g.get('mae'), '.3f')}, "
              f"bias {_f(gt_g.get('bias'), '+.2f')}; by band MAE (bias) {gt_bands}. Train median: MAE "
              f"{per[labels[0]]['age']['median_baseline_mae']:.3f}."]  # fmt: skip
    if per[labels[0]].get("stability"):
        names = list(per[labels[0]]["stability"])
        lines += ["", "## Stability (UTKFace chips, the same face perturbed; faces found on the original)", "",
                  head, rule]
        for n in names:
            lines.append(row(f"{n}: median abs d age", lambda r, n=n: _with_interval(r["stability"][n], "median_abs_d_age"), ".2f"))
            lines.append(row(f"{n}: p95 abs d age", lambda r, n=n: _with_interval(r["stability"][n], "p95_abs_d_age"), ".2f"))
            lines.append(row(f"{n}: decisions flipped", lambda r, n=n: _with_interval(r["stability"][n], "decisions_flipped"), ".4f"))
            lines.append(row(f"{n}: found", lambda r, n=n: r["stability"][n]["found"], ".3f"))
            lines.append(row(f"{n}: median box IoU", lambda r, n=n: r["stability"][n]["median_box_iou"], ".3f"))
    return lines


def _bundle_arg(text: str) -> tuple[str, Path]:
    label, sep, path = text.partition("=")
    return (label, Path(path)) if sep else (Path(text).stem, Path(text))


def _count(least: int):
    """An argparse type: an int >= `least` (trial 85: --limit 0 silently read every file, as
    "all", beside --scut 0 meaning "skip"; --limit -5 gave a pandas traceback)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return parse


def _head_arg(text: str) -> tuple[str | None, Path]:
    """LABEL=FILE -> (LABEL, FILE); a bare FILE -> (None, FILE): every bundle's."""
    label, sep, path = text.partition("=")
    return (label, Path(path)) if sep else (None, Path(text))


def merge_runs(paths: list[Path]) -> dict:
    """One results dict from runs of this script on the same files (same --part, --limit, --scut,
    --stability, --perturb), one bundle or more each: their bundles side by side; the
    ground-truth crops of the first."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    keys = ("part", "n")
    for r in runs[1:]:
        if any(r[k] != runs[0][k] for k in keys):
            raise ValueError(f"runs on different files: {[{k: x[k] for k in keys} for x in runs]}")
    out = {**runs[0], "command": " ; ".join(r["command"] for r in runs), "bundles": {}}
    for r in runs:
        out["bundles"] |= r["bundles"]
    return out


EXIT_STATUS = """\
exit status:
  0    every set asked for was scored (or --merge merged the runs)
  1    a data set asked for (--sets) is not under --datasets
  2    bad usage: an unknown option or a bad value, a --bundle that is no bundle, a --face-head /
       --box-head / --age-descriptor-head naming no --bundle label"""


def _file_label(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", label)


def _relative(path: str, root: Path) -> str:
    """A scored file's path under --datasets (as given elsewhere), so that records name the files, not a machine."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _write_faces(path: Path, kept: dict[str, list], root: Path) -> str:
    """Each scored file's top face as the Predictor gave it (None: none found), one JSON line a
    file ({"set", "path" under --datasets, "face"}), gzipped; returns the file's name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for name, rows in kept.items():
            for file, face in rows:
                f.write(json.dumps({"set": name, "path": _relative(file, root), "face": face}) + "\n")
    return path.name


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=EXIT_STATUS)  # fmt: skip
    ap.add_argument("--merge", type=Path, nargs="+", default=None,
                    help="results.json of runs on the same files: write their bundles side by side to --out")
    ap.add_argument("--bundle", type=_bundle_arg, nargs="+", default=[("embedded", DEFAULT_BUNDLE)],
                    help="[LABEL=]FILE, several to compare them on the same files")
    ap.add_argument("--face-head", type=_bundle_arg, nargs="+", default=[],
                    help="LABEL=FILE: that bundle's face head (rescue) instead of the shipped one")
    ap.add_argument("--box-head", type=_bundle_arg, nargs="+", default=[],
                    help="LABEL=FILE: that bundle's box head instead of the shipped one")
    ap.add_argument("--part", choices=("val", "tune"), default="val",
                    help="val parts (the record) or tune parts of the train partitions (choosing)")
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"),
                    help="the folder holding celeba_hq128, utkface128 (and scut_fbp5500_train) (default: "
                         "LNET_ANET_DATASETS, else ../shared/datasets beside the repository)")
    ap.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS),
                    help="what to score (default: both): attributes (celeba_hq128 files, the linear probe) and age "
                         "(utkface128 chips, the framings and the stability rows); each needs only its own data")  # fmt: skip
    ap.add_argument("--limit", type=_count(1), default=None,
                    help="files per set, drawn by a hash of their names (seed 0 for val, 1 for tune; a row left out "
                         "of the part moves no other in or out), the same files "
                         "for every bundle; files.json lists them (default: all)")  # fmt: skip
    ap.add_argument("--scut", type=_count(0), default=None, help="SCUT images for faces found (default: --limit; 0: skip)")
    ap.add_argument("--stability", type=_count(0), default=200, help="faces perturbed (default: 200; 0: skip)")
    ap.add_argument("--perturb", nargs="*", default=None, choices=PERTURBATIONS, metavar="NAME",
                    help=f"only these perturbations (default: all: {', '.join(PERTURBATIONS)})")
    ap.add_argument("--probe-train", type=_count(0), default=6000,
                    help="train faces for the linear probe (default: 6000; 0: skip)")
    ap.add_argument("--framings", type=_count(0), default=200,
                    help="UTKFace chips read at given framings (age_at_framings, a diagnostic; default: 200; 0: skip)")
    ap.add_argument("--age-descriptor-head", type=_head_arg, nargs="+", default=[],
                    help="[LABEL=]FILE: also run that bundle (a bare FILE: each bundle) with this age descriptor head "
                         "(lnet_anet.cli.fit_descriptor_head --target age, fitted on that bundle's ANet; needs the "
                         "descriptor extra)")  # fmt: skip
    ap.add_argument("--box-jitter", action="store_true",
                    help="also run each bundle with Predictor.box_jitter on (7 views of each face's region averaged)")
    ap.add_argument("--intervals", type=_count(0), default=RESAMPLES,
                    help=f"bootstrap resamples for the 95%% intervals of the headline figures (module docstring; "
                         f"default: {RESAMPLES}; 0: none)")
    ap.add_argument("--threads", type=_count(1), default=2, help="torch threads (default: 2)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where results.json and results.md go (default: runs/bench_end_to_end/<date>-<time>; "
                         "experiments/... for a recorded run)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.merge:
        merged = merge_runs(args.merge)
        out = args.out or Path(".")
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(merged, indent=2, default=float))
        (out / "results.md").write_text(markdown(merged))
        print(markdown(merged))
        return 0
    heads = {"face_head": dict(args.face_head), "box_head": dict(args.box_head)}
    labels = {label for label, _ in args.bundle}
    age_heads = {}  # a bare FILE is the age descriptor head of every bundle
    for label, path in args.age_descriptor_head:
        age_heads.update(dict.fromkeys(labels, path) if label is None else {label: path})
    unknown = sorted((set(heads["face_head"]) | set(heads["box_head"]) | set(age_heads)) - labels)
    if unknown:  # before any data is read
        print(f"bench_end_to_end: --face-head / --box-head / --age-descriptor-head name no --bundle label: "
              f"{', '.join(unknown)} (give them as LABEL=FILE with a --bundle LABEL=FILE, e.g. --bundle mine=B.lnetanet "
              "--face-head mine=H)", file=sys.stderr)  # fmt: skip
        return 2
    for _, path in args.bundle:  # before any data is read
        refused = bundle_refusal("--bundle", path)
        if refused:
            print(f"error: {refused}", file=sys.stderr)
            return 2
    sets = [k for k in SETS if k in args.sets]
    missing = [k for k in sets if not (args.datasets / SET_DATA[k]).exists()]
    if missing:
        have = [k for k in sets if k not in missing]
        hint = f"; to score the rest: --sets {' '.join(have)}" if have else ""
        print(f"error: {' and '.join(f'{SET_DATA[k]} (the {k} rows)' for k in missing)} not found under "
              f"{args.datasets} (--datasets DIR){hint}", file=sys.stderr)  # fmt: skip
        return 1
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    seed = SAMPLE_SEED[args.part]
    split = "val" if args.part == "val" else "train"

    def sample(df):
        return draw_by_name(df, args.limit, seed) if args.limit else df

    files = chips = None
    if "attributes" in sets:
        celeba = build_index(data_cfg("celeba_hq", args.datasets))
        train = split_of(celeba, "train")
        files = sample(split_of(celeba, split))
    if "age" in sets:
        utk = build_index(data_cfg("utkface", args.datasets))
        chips = sample(split_of(utk, split).reset_index(drop=True)).reset_index(drop=True)
        train_median = float(np.median(split_of(utk, "train")["age"]))
    scut_paths: list[str] = []
    n_scut = args.limit if args.scut is None else args.scut
    if n_scut != 0 and (args.datasets / "scut_fbp5500_train").exists():
        scut = read_scut_fbp5500(args.datasets / "scut_fbp5500_train")
        scut = scut[scut["split"] == "train"].reset_index(drop=True)
        folds = fold_of(scut["path"].map(lambda p: Path(p).name).tolist(), 5, 0)
        scut = scut[np.isin(folds, SCUT_FOLDS[args.part])]
        scut_paths = (draw_by_name(scut, n_scut, seed) if n_scut else scut)["path"].tolist()
    elif n_scut != 0:  # the row goes; say why
        print(f"note: no scut_fbp5500_train under {args.datasets}: the SCUT-FBP5500 rows are left out", file=sys.stderr)
    stab_paths = (draw_by_name(chips, args.stability, seed, salt="stability")["path"].tolist()
                  if args.stability and chips is not None else [])  # fmt: skip
    results = {
        "date": dt.date.today().isoformat(), "part": args.part,
        "command": shlex.join(["python", "benchmarks/bench_end_to_end.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(), "threads": args.threads,
        "datasets": str(Path(args.datasets).resolve()),  # files.json is relative to it (a trial: two copies were told apart by nothing)
        "sets": sets,
        "n": {"celeba_hq": 0 if files is None else len(files), "utkface": 0 if chips is None else len(chips),
              "scut": len(scut_paths), "stability": len(stab_paths)},
        "bundles": {},
    }  # fmt: skip
    names = None
    def load(label: str, path: Path, **kw) -> Predictor:
        return Predictor.load(path, **kw, **{k: v[label] for k, v in heads.items() if label in v})

    runs = [(label, path, None, False) for label, path in args.bundle]
    # each bundle given an age descriptor head again with it (opt-in), in the same script
    runs += [(f"{label}+age-descriptor", path, age_heads[label], False) for label, path in args.bundle if label in age_heads]
    if args.box_jitter:  # and with the opt-in jittered views
        runs += [(f"{label}+box-jitter", path, None, True) for label, path in args.bundle]
    out = args.out or runs_root() / "bench_end_to_end" / f"{results['date']}-{dt.datetime.now():%H%M%S}"
    for label, path, age_head, jitter in runs:
        predictor = load(label.split("+")[0], path, box_jitter=jitter or None)
        if age_head is not None:
            predictor.age_descriptor_head = DescriptorHead.load(age_head, target="age")
        names = predictor.bundle.attributes
        t0 = time.perf_counter()
        lnet = predictor.bundle.preprocessing["lnet"]
        r = {"bundle": str(path), "digest": (predictor.bundle.digest or "")[:12], "identity": predictor.bundle.identity,
             "model": predictor.model_identity, "lnet_input": lnet,
             "scales": list(lnet.get("scales", [1.0])), "cascade": predictor.cascade is not None}
        kept: dict[str, list] = {"celeba_hq": [], "utkface": [], "scut": []}  # (path, top face) per file
        if files is not None:
            r["attributes"] = attributes_end_to_end(predictor, files, names, train[names].to_numpy(), kept["celeba_hq"],
                                                    args.intervals)  # fmt: skip
        if chips is not None:
            picture = out / f"age_errors_{_file_label(label)}.png"
            r["age"] = age_end_to_end(predictor, chips, train_median, picture, f"{label}: UTKFace {args.part} chips, end to end",
                                      keep=kept["utkface"], resamples=args.intervals)  # fmt: skip
            r["age_at_framings"] = age_at_framings(predictor, chips[: args.framings]) if args.framings else None
        if scut_paths:
            r["scut"] = faces_found(predictor, scut_paths, kept["scut"], args.intervals)
        r["faces_file"] = _write_faces(out / f"faces_{_file_label(label)}.jsonl.gz", kept, args.datasets)
        if stab_paths:
            r["stability"] = stability(predictor, stab_paths, args.perturb, args.intervals)
        r["seconds"] = time.perf_counter() - t0
        results["bundles"][label] = r
        print(f"{label}: {json.dumps({k: v for k, v in r.items() if k != 'stability'}, default=float)[:600]}", flush=True)
    first = load(*args.bundle[0]).bundle
    results["ground_truth_crops"] = {"bundle": args.bundle[0][0]}
    if files is not None:
        results["ground_truth_crops"]["attributes"] = attributes_on_crops(first, args.datasets, files, train[names].to_numpy())
    if chips is not None:
        results["ground_truth_crops"]["age"] = age_on_crops(first, args.datasets, chips)
    if args.probe_train and files is not None:
        probe_train = train.sample(n=min(args.probe_train, len(train)), random_state=0)
        if args.part == "tune":
            probe_train = probe_train[~probe_train["path"].isin(set(files["path"]))]
        results["linear_probe"] = linear_probe(probe_train, files, names, train[names].to_numpy())
    results["seconds"] = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    scored = {"celeba_hq": [] if files is None else files["path"].tolist(),
              "utkface": [] if chips is None else chips["path"].tolist(), "scut": scut_paths, "stability": stab_paths}
    (out / "files.json").write_text(json.dumps({k: [_relative(p, args.datasets) for p in v] for k, v in scored.items()},
                                               indent=0) + "\n")  # fmt: skip
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float))
    (out / "results.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
