"""Attributes, age and their stability measured end to end: `Predictor` on the image files as shipped.

    python benchmarks/bench_end_to_end.py [--bundle FILE] [--datasets ../shared/datasets]
        [--limit N] [--stability 200] [--probe-train 6000] [--out DIR]

Every figure here goes through `Predictor.predict_many` on the val files (celeba_hq128's val
partition, the UTKFace 20% hold-out): LNet finds the face, ANet and the heads read its crop. Beside
them, in the same run:
- the same bundle on the ground-truth crops (the aligned file handed straight to ANet / the age net,
  as benchmarks/bench_default.py measures): the cost of localization;
- a linear probe: a frozen ImageNet EfficientNet-Lite0 (global-average features of the aligned
  128 px face) with one logistic regression per attribute, fitted on `--probe-train` train faces;
- the constant baselines (majority class per attribute; the train median age).
Per image, the face the predictor scores highest is the one scored; an image with no face counts in
the "found" share and is left out of the accuracy (its share is reported beside it).

Stability (`--stability` UTKFace hold-out faces): each file is perturbed (JPEG q95 and q75 re-saves,
shifts by 4 px, scale x0.9 / x1.1, brightness x0.6 / x1.5, grayscale, 128 -> 256 px) and run again;
per perturbation: |delta age| (median, 95th percentile), the share of attribute decisions that
flip, and the IoU of the face box with the original's (mapped into the same pixels).

Writes experiments/<date>-end-to-end/results.{json,md}. Needs ../shared/datasets; says so and stops
when it is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_default import age as age_on_crops  # noqa: E402
from bench_default import attributes as attributes_on_crops  # noqa: E402
from bench_default import data_cfg  # noqa: E402

from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402
from lnet_anet.metrics.attributes import attribute_metrics  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
AGE_BANDS = ((0, 12), (13, 19), (20, 39), (40, 59), (60, 200))


def top_faces(predictor: Predictor, paths: list[str], batch_size: int = 8) -> list[dict | None]:
    """The highest-scoring face of each file (None: no face found, or an error)."""
    out = []
    for record in predictor.predict_many(paths, batch_size=batch_size):
        faces = record["faces"]
        out.append(max(faces, key=lambda f: f["score"]) if faces else None)
    return out


def attributes_end_to_end(predictor: Predictor, val, names: list[str], train_labels: np.ndarray) -> dict:
    faces = top_faces(predictor, val["path"].tolist())
    found = np.array([f is not None for f in faces])
    labels = val[names].to_numpy()[found]
    probs = np.array([[f["attributes"][n] for n in names] for f in faces if f is not None])
    thresholds = predictor.bundle.svm.threshold
    at_half = attribute_metrics(probs >= 0.5, labels, names, train_labels)
    at_bundle = attribute_metrics(probs >= thresholds, labels, names, train_labels)
    return {"n_images": len(val), "found": float(found.mean()),
            "p_ge_0.5": {k: at_half[k] for k in ("mean_accuracy", "mean_balanced_accuracy", "majority_mean_accuracy")},
            "bundle_thresholds": {k: at_bundle[k] for k in ("mean_accuracy", "mean_balanced_accuracy")}}  # fmt: skip


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


def age_end_to_end(predictor: Predictor, held, train_median: float) -> dict:
    faces = top_faces(predictor, held["path"].tolist())
    found = np.array([f is not None and f["age"] is not None for f in faces])
    true = held["age"].to_numpy(np.float64)[found]
    mean = np.array([f["age"]["mean"] for f in faces if f is not None and f["age"] is not None])
    std = np.array([f["age"]["std"] for f in faces if f is not None and f["age"] is not None])
    err = mean - true
    bands = {}
    for lo, hi in AGE_BANDS:
        sel = (true >= lo) & (true <= hi)
        if sel.any():
            bands[f"{lo}-{hi if hi < 200 else ''}"] = {
                "n": int(sel.sum()), "mae": float(np.abs(err[sel]).mean()), "bias": float(err[sel].mean()),
                "within_1_std": float((np.abs(err[sel]) <= std[sel]).mean()),
                "within_2_std": float((np.abs(err[sel]) <= 2 * std[sel]).mean())}  # fmt: skip
    return {"n_images": len(held), "found": float(found.mean()), "mae": float(np.abs(err).mean()),
            "bias": float(err.mean()), "within_1_std": float((np.abs(err) <= std).mean()),
            "within_2_std": float((np.abs(err) <= 2 * std).mean()),
            "median_baseline_mae": float(np.abs(true - train_median).mean()), "by_band": bands}  # fmt: skip


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


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


def stability(predictor: Predictor, paths: list[str]) -> dict:
    names = predictor.attributes
    thresholds = predictor.bundle.svm.threshold
    rows: dict[str, dict[str, list[float]]] = {}
    for path in paths:
        img = Image.open(path).convert("RGB")
        base = top_faces(predictor, [np.asarray(img)])[0]
        if base is None:
            continue
        variants = perturbations(img)
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
                         "median_box_iou": float(np.median(r["iou"])) if r["iou"] else float("nan")}  # fmt: skip
    return summary


def markdown(results: dict) -> str:
    a, g = results["attributes"], results["age"]
    lines = [f"# End to end through Predictor ({results['date']})", "", f"Command: `{results['command']}`", "",
             f"Machine: {results['machine']}; bundle {results['bundle']}", "",
             "## Attributes, celeba_hq128 val files", "",
             "| measured on | faces found | mean accuracy | mean balanced accuracy |", "|---|---|---|---|",
             f"| end to end, p >= 0.5 | {a['end_to_end']['found']:.4f} | {a['end_to_end']['p_ge_0.5']['mean_accuracy']:.4f} | "
             f"{a['end_to_end']['p_ge_0.5']['mean_balanced_accuracy']:.4f} |",
             f"| end to end, the bundle's decisions | | {a['end_to_end']['bundle_thresholds']['mean_accuracy']:.4f} | "
             f"{a['end_to_end']['bundle_thresholds']['mean_balanced_accuracy']:.4f} |",
             f"| ground-truth crops (diagnostic), the bundle's decisions | 1 | {a['ground_truth_crops']['mean_accuracy']:.4f} | "
             f"{a['ground_truth_crops']['mean_balanced_accuracy']:.4f} |",
             f"| linear probe: frozen ImageNet Lite0 + logistic regression ({a['linear_probe']['n_train']} train faces) | 1 | "
             f"{a['linear_probe']['mean_accuracy']:.4f} | {a['linear_probe']['mean_balanced_accuracy']:.4f} |",
             f"| majority class | | {a['end_to_end']['p_ge_0.5']['majority_mean_accuracy']:.4f} | 0.5000 |", "",
             "## Age, UTKFace hold-out files", "",
             f"End to end: faces found {g['end_to_end']['found']:.4f}, MAE {g['end_to_end']['mae']:.3f}, bias "
             f"{g['end_to_end']['bias']:+.2f}, within 1 std {g['end_to_end']['within_1_std']:.3f}, within 2 std "
             f"{g['end_to_end']['within_2_std']:.3f}; ground-truth crops (diagnostic) MAE {g['ground_truth_crops'].get('mae', float('nan')):.3f}; "
             f"train median {g['end_to_end']['median_baseline_mae']:.3f}.", "",
             "| age band | faces | MAE | bias | within 1 std | within 2 std |", "|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {b} | {v['n']} | {v['mae']:.2f} | {v['bias']:+.2f} | {v['within_1_std']:.3f} | {v['within_2_std']:.3f} |"
              for b, v in g["end_to_end"]["by_band"].items()]  # fmt: skip
    lines += ["", "## Stability (UTKFace hold-out files, the same face perturbed)", "",
              "| perturbation | faces | found | median abs d age | p95 abs d age | decisions flipped | median box IoU |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {n} | {v['faces']} | {v['found']:.3f} | {v['median_abs_d_age']:.2f} | {v['p95_abs_d_age']:.2f} | "
              f"{v['decisions_flipped']:.4f} | {v['median_box_iou']:.3f} |" for n, v in results["stability"].items()]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--limit", type=int, default=None, help="files per val set (default: all)")
    ap.add_argument("--stability", type=int, default=200, help="faces perturbed")
    ap.add_argument("--probe-train", type=int, default=6000, help="train faces for the linear probe")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if not (args.datasets / "celeba_hq128").exists() or not (args.datasets / "utkface128").exists():
        print(f"bench_end_to_end: needs celeba_hq128 and utkface128 under {args.datasets}", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    predictor = Predictor.load(args.bundle)
    bundle = predictor.bundle
    names = bundle.attributes
    celeba = build_index(data_cfg("celeba_hq", args.datasets))
    train, val = split_of(celeba, "train"), split_of(celeba, "val")
    val = val.sample(n=min(args.limit, len(val)), random_state=0) if args.limit else val
    train_labels = train[names].to_numpy()
    probe_train = train.sample(n=min(args.probe_train, len(train)), random_state=0)
    utk = build_index(data_cfg("utkface", args.datasets))
    held = split_of(utk, "val").reset_index(drop=True)
    held = held.sample(n=min(args.limit, len(held)), random_state=0).reset_index(drop=True) if args.limit else held
    results = {
        "date": dt.date.today().isoformat(),
        "command": shlex.join(["python", "benchmarks/bench_end_to_end.py", *(argv if argv is not None else sys.argv[1:])]),
        "bundle": str(args.bundle), "machine": machine(), "threads": args.threads,
        "attributes": {"end_to_end": attributes_end_to_end(predictor, val, names, train_labels),
                       "ground_truth_crops": attributes_on_crops(bundle, args.datasets, args.limit),  # same sample
                       "linear_probe": linear_probe(probe_train, val, names, train_labels)},
        "age": {"end_to_end": age_end_to_end(predictor, held, float(np.median(split_of(utk, "train")["age"]))),
                "ground_truth_crops": age_on_crops(bundle, args.datasets, args.limit)},
        "stability": stability(predictor, held["path"].sample(n=min(args.stability, len(held)), random_state=0).tolist()),
    }  # fmt: skip
    results["seconds"] = time.perf_counter() - start
    out = args.out or REPO / "experiments" / f"{results['date']}-end-to-end"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float))
    (out / "results.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
