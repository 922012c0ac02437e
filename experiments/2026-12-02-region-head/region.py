"""A region head: ANet's feature of LNet's region -> where the usual framing of that face lies
(a diagnostic on tune parts; issue 15, RULE.md).

    PYTHONPATH=. python experiments/2026-12-02-region-head/region.py collect --fit 1500 --out runs/region-head
    PYTHONPATH=. python experiments/2026-12-02-region-head/region.py evaluate --out runs/region-head

collect: every view through `Predictor.predict` (the bundle as shipped); the top face's region
(the box the heads crop, image pixels) and ANet's feature of it, captured where the Predictor
computes them. Fit views: UTKFace train-part chips outside the tune sample, as shipped and in two
random views (one of them pasted on a face-free WIDER tune crop); tune views: the tune sample (seed 1) and the stability benchmark's 10 perturbations.
wider: the found faces of WIDER's tune photos paired with their labelled faces (fit_box_head's
pairing), for the 4th criterion.
evaluate: fits the head per (alpha, shrink), reads each tune view again through its corrected region
(analyse_boxes kind="region") and prints RULE.md's figures, LNet's region beside them.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import SAMPLE_SEED, data_cfg, perturbations  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402
from lnet_anet.inference.box_head import BoxHead  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402

TUNE_N = 300


class Spy:
    """Wraps a Predictor's _analyse_all to keep the faces' regions, scores and features."""

    def __init__(self, predictor: Predictor):
        self.inner, self.last = predictor._analyse_all, None
        predictor._analyse_all = self

    def __call__(self, faces):
        features = self.inner(faces)
        self.last = [(np.asarray(region, np.float64), score, f) for (_, region, score, _), f in
                     zip(faces, features, strict=True)]  # fmt: skip
        return features


def top(predictor: Predictor, spy: Spy, arr: np.ndarray):
    """(region, feature, age) of the strongest face, or None."""
    spy.last = None
    record = predictor.predict(arr)
    if not record["faces"]:
        return None
    k = int(np.argmax([f["score"] for f in record["faces"]]))
    region, _, feature = spy.last[k]
    return region, feature, record["faces"][k]["age"]["mean"]


def random_view(img: Image.Image, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random view of a chip: a shift (pixels cut from the left / top), a rescale, a photometric
    change; and its affine map (sx, sy, tx, ty) from the chip's pixels."""
    w, h = img.size
    cx, cy = (int(v) for v in rng.integers(0, 9, 2))
    s = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    view = img.crop((cx, cy, w, h))
    size = (round((w - cx) * s), round((h - cy) * s))
    view = view.resize(size, Image.Resampling.BICUBIC)
    kind = rng.integers(0, 4)
    if kind == 0:
        arr = np.clip(np.asarray(view) * rng.uniform(0.5, 1.7), 0, 255).astype(np.uint8)
    elif kind == 1:
        arr = np.asarray(view.convert("L").convert("RGB"))
    elif kind == 2:
        buf = io.BytesIO()
        view.save(buf, "JPEG", quality=int(rng.integers(50, 96)))
        arr = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    else:
        arr = np.asarray(view)
    sx, sy = size[0] / (w - cx), size[1] / (h - cy)
    return arr, np.array([sx, sy, -cx * sx, -cy * sy])


def in_context(img: Image.Image, background: Image.Image, rng: np.random.Generator) -> tuple[Image.Image, np.ndarray]:
    """The chip pasted at a random place on a face-free photo crop 1.5-2.5 times its size, so that
    no black padding marks the chip's frame; and the affine map from the chip's pixels."""
    w, h = img.size
    side = round(max(w, h) * rng.uniform(1.5, 2.5))
    canvas = background.convert("RGB").resize((side, side), Image.Resampling.BILINEAR)
    ox, oy = int(rng.integers(0, side - w + 1)), int(rng.integers(0, side - h + 1))
    canvas.paste(img, (ox, oy))
    return canvas, np.array([1.0, 1.0, float(ox), float(oy)])


def compose(first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """The affine map of `first` followed by `then`, both (sx, sy, tx, ty)."""
    return np.array([first[0] * then[0], first[1] * then[1], first[2] * then[0] + then[2], first[3] * then[1] + then[3]])


def mapped(box: np.ndarray, affine: np.ndarray) -> np.ndarray:
    sx, sy, tx, ty = affine
    return box * [sx, sy, sx, sy] + [tx, ty, tx, ty]


def chips(datasets: Path):
    utk = build_index(data_cfg("utkface", datasets))
    train = split_of(utk, "train").reset_index(drop=True)
    tune = train.sample(n=TUNE_N, random_state=SAMPLE_SEED["tune"])
    return train.drop(tune.index).reset_index(drop=True), tune.reset_index(drop=True)


def collect(args) -> None:
    torch.set_num_threads(2)
    fit, tune = chips(args.datasets)
    fit = fit.sample(n=args.fit, random_state=7).reset_index(drop=True)
    predictor = Predictor.load(args.bundle)
    spy = Spy(predictor)
    rng = np.random.default_rng(0)
    rows = {k: [] for k in ("part", "chip", "view", "w", "h", "affine", "region", "feature", "age", "true_age")}

    def add(part, chip, view, img, affine, arr, age):
        got = top(predictor, spy, arr)
        if got is None:
            return
        for k, v in zip(rows, (part, chip, view, img.size[0], img.size[1], affine, *got, age), strict=True):
            rows[k].append(v)

    ident = np.array([1.0, 1.0, 0.0, 0.0])
    backgrounds = args.backgrounds.read_text().split()
    for i, (path, age) in enumerate(zip(fit["path"], fit["age"], strict=True)):
        img = Image.open(path).convert("RGB")
        add("fit", i, "original", img, ident, np.asarray(img), age)
        arr, affine = random_view(img, rng)
        add("fit", i, "random", img, affine, arr, age)
        canvas, placed = in_context(img, Image.open(backgrounds[int(rng.integers(len(backgrounds)))]), rng)
        arr, affine = random_view(canvas, rng)
        add("fit", i, "context", img, compose(placed, affine), arr, age)
        if i % 100 == 0:
            print(f"fit {i}/{len(fit)}", flush=True)
    for i, (path, age) in enumerate(zip(tune["path"], tune["age"], strict=True)):
        img = Image.open(path).convert("RGB")
        add("tune", i, "original", img, ident, np.asarray(img), age)
        for name, (arr, affine) in perturbations(img).items():
            add("tune", i, name, img, np.asarray(affine, np.float64), arr, age)
        if i % 50 == 0:
            print(f"tune {i}/{len(tune)}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / "views.npz", **{k: np.array(v) for k, v in rows.items()},
             tune_paths=np.array(tune["path"].tolist()))  # fmt: skip


def collect_changes(args) -> None:
    """Round 3: ANet's feature of each unperturbed fit chip's region read in two exposure views of
    the chip (lnet_anet.data.transforms.exposure_view, seed 0), minus its feature as shipped."""
    from lnet_anet.data.transforms import exposure_view

    torch.set_num_threads(2)
    z = np.load(args.out / "views.npz")
    fit, _ = chips(args.datasets)
    fit = fit.sample(n=args.fit, random_state=7).reset_index(drop=True)
    predictor = Predictor.load(args.bundle)
    rng = np.random.default_rng(0)
    sel = np.flatnonzero((z["part"] == "fit") & (z["view"] == "original"))
    changes = []
    for k in sel:
        arr = np.asarray(Image.open(fit["path"][int(z["chip"][k])]).convert("RGB"))
        for _ in range(2):
            view = exposure_view(arr, rng)[1]
            changes.append(predictor.anet_features(view, [z["region"][k]], kind="region")[0] - z["feature"][k])
    np.save(args.out / "changes.npy", np.stack(changes))


def collect_wider(args) -> None:
    """WIDER tune photos (real photos): every found face (candidates above the bundle's threshold)
    whose fixed face box is centred in exactly one labelled face that counts, as fit_box_head pairs
    them: its region, feature and labelled face box."""
    from lnet_anet.cli.fit_box_head import labelled_pairs
    from lnet_anet.data.images import load_image
    from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt

    torch.set_num_threads(2)
    labels = sorted((args.datasets / "wider_face_train" / "wider_face_split").glob("*_bbx_gt.txt"))[0]
    table = read_wider_txt(labels, None)
    table = mark_small(table[hash_part(table["name"]) == "tune"].reset_index(drop=True), 24.0)
    predictor = Predictor.load(args.bundle)
    threshold = predictor.localizer.threshold
    regions, features, truths = [], [], []
    for path, truth, dont_care in zip(table["path"], table["boxes"], table["dont_care"], strict=True):
        image = load_image(path)
        found, _, feats = predictor.candidates(image, min_score=threshold)
        if not len(found):
            continue
        fixed = np.stack([predictor.face_box(r, image.shape[:2]) for r in found])
        keep, faces = labelled_pairs(fixed, np.asarray(truth, np.float64).reshape(-1, 4), np.asarray(dont_care, bool))
        regions.append(found[keep])
        features.append(feats[keep])
        truths.append(faces[keep])
    np.savez(args.out / "wider.npz", region=np.concatenate(regions), feature=np.concatenate(features),
             truth=np.concatenate(truths), photos=len(table))  # fmt: skip


def wider_placement(predictor: Predictor, w, regions: np.ndarray) -> dict:
    """The face boxes of `regions` (the localizer's four ratios) against the labelled faces: median
    IoU, share at IoU >= 0.5, median centre error in face widths, median width ratio."""
    boxes = np.stack([predictor.localizer.to_face_box(r) for r in regions])
    t = w["truth"]
    ious = iou(boxes, t)
    tw = t[:, 2] - t[:, 0]
    centre = np.hypot((boxes[:, 0] + boxes[:, 2] - t[:, 0] - t[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3] - t[:, 1] - t[:, 3]) / 2)
    return {"pairs": len(t), "median_iou": float(np.median(ious)), "iou_0.5": float(np.mean(ious >= 0.5)),
            "centre_error": float(np.median(centre / tw)), "width_ratio": float(np.median((boxes[:, 2] - boxes[:, 0]) / tw))}


def canonical(z) -> np.ndarray:
    """The median region of the unperturbed fit chips, in units of the chip (x / w, y / h)."""
    sel = (z["part"] == "fit") & (z["view"] == "original")
    return np.median(z["region"][sel] / np.stack([z["w"], z["h"], z["w"], z["h"]], 1)[sel], 0)


class FeatureOnlyHead(BoxHead):
    """The head without the log sides among its inputs (their columns zeroed, so their ridge
    weights are 0): a correction that cannot depend on the face's size in pixels."""

    def _inputs(self, boxes, features):
        x = super()._inputs(boxes, features)
        x[:, -2:] = 0.0
        return x


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return box_iou(torch.tensor(a), torch.tensor(b)).diagonal().numpy()


def evaluate(args) -> None:
    torch.set_num_threads(2)
    z = np.load(args.out / "views.npz")
    c = canonical(z)
    sizes = np.stack([z["w"], z["h"], z["w"], z["h"]], 1)
    targets = np.stack([mapped(c * s, a) for s, a in zip(sizes, z["affine"], strict=True)])
    fit, tune = z["part"] == "fit", z["part"] == "tune"
    predictor = Predictor.load(args.bundle)
    paths = z["tune_paths"]
    wider = np.load(args.out / "wider.npz") if (args.out / "wider.npz").exists() else None
    views = {i: None for i in range(len(paths))}
    results = {"canonical": c.tolist(), "fit_views": int(fit.sum()), "settings": {}}
    print(f"canonical region (chip units): {np.round(c, 3).tolist()}; fit views {fit.sum()}")
    settings = [(None, None, 0.0)] + [(a, s, lam) for a in args.alphas for s in args.shrinks for lam in args.lambdas]
    changes = np.load(args.out / "changes.npy") if any(lam for *_, lam in settings) else None
    for alpha, shrink, lam in settings:
        if alpha is None:
            regions = z["region"][tune]
            label = "LNet's region"
            head = None
        else:
            head = (FeatureOnlyHead if args.feature_only else BoxHead).fit(
                z["region"][fit], z["feature"][fit], targets[fit], alpha=alpha, shrink=shrink,
                feature_changes=changes if lam else None, invariance=lam)
            regions = head.correct(z["region"][tune], z["feature"][tune])
            label = f"alpha {alpha:g} shrink {shrink:g}" + (f" lambda {lam:g}" if lam else "")
        ages = np.empty(len(regions))
        chip, view = z["chip"][tune], z["view"][tune]
        for k, (i, name) in enumerate(zip(chip, view, strict=True)):
            if views[i] is None:
                img = Image.open(paths[i]).convert("RGB")
                views[i] = {"original": np.asarray(img), **{n: v for n, (v, _) in perturbations(img).items()}}
            ages[k] = predictor.analyse_boxes(views[i][name], [regions[k]], kind="region")[0]["age"]["mean"]
        if wider is not None:
            placed = wider_placement(predictor, wider, wider["region"] if head is None else
                                     head.correct(wider["region"], wider["feature"]))  # fmt: skip
            print(f"   WIDER tune faces: {json.dumps({k: round(v, 3) for k, v in placed.items()})}")
        results["settings"][label] = report(label, chip, view, ages, regions, z["affine"][tune], z["true_age"][tune],
                                            targets[tune])  # fmt: skip
        if wider is not None:
            results["settings"][label]["wider"] = placed
    (args.out / f"evaluate{args.tag}.json").write_text(json.dumps(results, indent=1))


def report(label, chip, view, ages, regions, affines, true_ages, targets) -> dict:
    """RULE.md's figures of one setting: per perturbation median / p95 |delta age| and median
    region IoU against the original's (mapped); the originals' age MAE; IoU with the target."""
    orig = {int(i): k for k, (i, v) in enumerate(zip(chip, view, strict=True)) if v == "original"}
    out = {"mae_originals": float(np.mean([abs(ages[k] - true_ages[k]) for k in orig.values()])),
           "target_iou_originals": float(np.median(iou(regions[list(orig.values())], targets[list(orig.values())]))),
           "perturbations": {}}  # fmt: skip
    for name in dict.fromkeys(view):
        if name == "original":
            continue
        ks = [k for k, (i, v) in enumerate(zip(chip, view, strict=True)) if v == name and int(i) in orig]
        o = [orig[int(chip[k])] for k in ks]
        d = np.abs(ages[ks] - ages[o])
        ious = iou(np.stack([mapped(regions[j], affines[k]) for j, k in zip(o, ks, strict=True)]), regions[ks])
        out["perturbations"][name] = {"n": len(ks), "median": float(np.median(d)), "p95": float(np.percentile(d, 95)),
                                      "iou": float(np.median(ious))}  # fmt: skip
    p95 = [v["p95"] for v in out["perturbations"].values()]
    out["mean_p95"] = float(np.mean(p95))
    print(f"{label:26s} MAE {out['mae_originals']:.3f}  mean p95 {out['mean_p95']:.2f}  "
          f"target IoU {out['target_iou_originals']:.3f}")  # fmt: skip
    for name, v in out["perturbations"].items():
        print(f"   {name:16s} n {v['n']:3d}  median {v['median']:5.2f}  p95 {v['p95']:5.2f}  IoU {v['iou']:.3f}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=("collect", "changes", "wider", "evaluate"))
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--fit", type=int, default=1500, help="fit chips (each as shipped, in a random view, and pasted on a face-free crop in a random view)")
    ap.add_argument("--backgrounds", type=Path, default=REPO / "runs" / "face-verifier" / "free-fit.txt",
                    help="face-free crops of WIDER's tune part, one path per line (the face-verifier study's)")
    ap.add_argument("--alphas", type=float, nargs="+", default=[100.0, 1000.0, 10000.0])
    ap.add_argument("--shrinks", type=float, nargs="+", default=[0.5, 1.0])
    ap.add_argument("--feature-only", action="store_true", help="round 2: the head without the log sides")
    ap.add_argument("--lambdas", type=float, nargs="+", default=[0.0], help="round 3: invariance penalties")
    ap.add_argument("--tag", default="", help="suffix of evaluate's json")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    {"collect": collect, "changes": collect_changes, "wider": collect_wider, "evaluate": evaluate}[args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
