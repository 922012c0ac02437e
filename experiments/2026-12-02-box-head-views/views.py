"""The box head fitted also on photometric views of its photos (RULE.md; issues 14 and 15).

    PYTHONPATH=. python experiments/2026-12-02-box-head-views/views.py collect --out runs/box-head-views
    PYTHONPATH=. python experiments/2026-12-02-box-head-views/views.py choose --out runs/box-head-views

collect: every WIDER tune photo as shipped and in two random photometric views (brightness, gray,
JPEG: lnet_anet.data.transforms.exposure_view, which this script's first version held as its own
`photometric`, the same draws); the localizer's candidates (opened, Predictor.candidates, the 30 strongest) with their
fixed face boxes, scores and ANet features. choose: heads A (clean views) and B (clean and
photometric views) fitted on the fit half, their figures on the choose half and on the
region-head study's tune chips (runs/region-head/views.npz), and RULE.md's verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "experiments" / "2026-12-02-face-verifier"))
from choose import SHIPPED_T, op_recall, wider_truth  # noqa: E402

from lnet_anet.cli.fit_box_head import labelled_pairs  # noqa: E402
from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, mark_small, read_wider_txt  # noqa: E402
from lnet_anet.data.transforms import exposure_view  # noqa: E402
from lnet_anet.inference.box_head import BoxHead  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor  # noqa: E402
from lnet_anet.metrics.detection import evaluate_detections  # noqa: E402

PER_VIEW = 30
ALPHA, SHRINK = 1000.0, 0.5  # the shipped head's settings
LAMBDAS = (1.0, 10.0, 100.0, 1000.0)  # round 2's invariance penalties, x (pairs / differences)


def collect(args) -> None:
    torch.set_num_threads(2)
    labels = next((args.datasets / "wider_face_train" / "wider_face_split").glob("*_bbx_gt.txt"))
    table = read_wider_txt(labels)
    table = mark_small(table[hash_part(table["name"]) == "tune"].reset_index(drop=True), 24.0)
    predictor = Predictor.load(args.bundle)
    rng = np.random.default_rng(0)
    rows = {k: [] for k in ("image", "view", "kind", "box", "score", "feature", "target", "has", "region",
                            "feature_views")}
    for i, (path, truth, dont_care) in enumerate(tqdm(list(zip(table["path"], table["boxes"], table["dont_care"],
                                                                strict=True)), desc="photos")):  # fmt: skip
        image = load_image(path)
        views = [("clean", image), exposure_view(image, rng), exposure_view(image, rng)]
        for v, (kind, arr) in enumerate(views):
            regions, scores, features = predictor.candidates(arr)
            regions, scores, features = regions[:PER_VIEW], scores[:PER_VIEW], features[:PER_VIEW]
            if not len(regions):
                continue
            fixed = np.stack([predictor.face_box(r, arr.shape[:2]) for r in regions])
            has, target = labelled_pairs(fixed, np.asarray(truth, np.float64).reshape(-1, 4), np.asarray(dont_care, bool))
            for k, value in zip(rows, (i, v, kind), strict=False):
                rows[k] += [value] * len(regions)
            # round 2: a clean candidate's region read in the photo's two photometric views
            same = (np.stack([predictor.anet_features(view, regions, kind="region") for _, view in views[1:]], 1)
                    if v == 0 else np.zeros((len(regions), 2, features.shape[1]), np.float32))  # fmt: skip
            for k, value in zip(("box", "score", "feature", "target", "has", "region", "feature_views"),
                                (fixed, scores, features, target, has, regions, same), strict=True):  # fmt: skip
                rows[k].append(value)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / "wider-views.npz", names=np.array(table["name"].tolist()),
             **{k: np.array(v) if k in ("image", "view", "kind") else np.concatenate(v) for k, v in rows.items()})


def wider_figures(head: BoxHead | None, d, sel: np.ndarray, images: np.ndarray, truth: list) -> dict:
    """AP50 over the whole ranking and recall at the operating point of the candidates `sel` of
    `images` (their boxes corrected by `head`; None: the fixed face box)."""
    boxes = d["box"] if head is None else head.correct(d["box"], d["feature"])
    dets, ops = [], []
    for i in images:
        m = sel & (d["image"] == i)
        dets.append((boxes[m], d["score"][m]))
        keep = m & (d["score"] > SHIPPED_T)
        ops.append((boxes[keep], d["score"][keep]))
    return {"ap50": float(evaluate_detections(dets, truth)["ap"]), "op_recall": float(op_recall(ops, truth))}


def photometric_figures(head: BoxHead | None, d, images: np.ndarray, truth: list) -> dict:
    """wider_figures on each photo's first and second photometric view, averaged."""
    each = [wider_figures(head, d, d["view"] == v, images, truth) for v in (1, 2)]
    return {k: float(np.mean([e[k] for e in each])) for k in each[0]}


def stability(head: BoxHead | None, z, localizer) -> dict:
    """Median IoU of each perturbed tune chip's reported box with the original's (mapped), as the
    stability benchmark scores it: the fixed face box clipped to the picture, then the head's
    correction clipped again."""
    tune = z["part"] == "tune"
    region, feature, affine = z["region"][tune], z["feature"][tune], z["affine"][tune]
    chip, view = z["chip"][tune], z["view"][tune]
    sizes = np.stack([z["w"][tune] * affine[:, 0] + affine[:, 2], z["h"][tune] * affine[:, 1] + affine[:, 3]], 1)
    limits = np.concatenate([sizes, sizes], 1)
    boxes = np.clip(np.stack([localizer.to_face_box(r) for r in region]), 0, limits)
    if head is not None:
        boxes = np.clip(head.correct(boxes, feature), 0, limits)
    orig = {int(c): k for k, (c, v) in enumerate(zip(chip, view, strict=True)) if v == "original"}
    out = {}
    for name in dict.fromkeys(view):
        if name == "original":
            continue
        ks = [k for k, (c, v) in enumerate(zip(chip, view, strict=True)) if v == name and int(c) in orig]
        o = [orig[int(chip[k])] for k in ks]
        s = affine[ks]
        mapped = boxes[o] * np.stack([s[:, 0], s[:, 1], s[:, 0], s[:, 1]], 1) + np.stack([s[:, 2], s[:, 3]] * 2, 1)
        out[name] = float(np.median(box_iou(torch.tensor(mapped), torch.tensor(boxes[ks])).diagonal().numpy()))
    return out


def invariant_head(d, pairs: np.ndarray, clean: np.ndarray, lam: float) -> BoxHead:
    """RULE.md's round 2: the ridge of A's pairs with a penalty lam * (pairs / differences) on the
    change of its prediction between each clean candidate's feature and the same region's feature
    in the photo's photometric views: solve (Xc'Xc + alpha I + l D'D) w = Xc'yc (centred data)."""
    from lnet_anet.inference.box_head import encode_boxes

    base = BoxHead.fit(d["box"][pairs], d["feature"][pairs], d["target"][pairs], alpha=ALPHA, shrink=SHRINK)
    x = base._inputs(d["box"][pairs], d["feature"][pairs])
    y = encode_boxes(d["box"][pairs], d["target"][pairs])
    views = d["feature_views"][clean]  # (M, 2, D)
    diff = np.concatenate([(d["feature"][clean][:, None] - views) / base.scale]).reshape(-1, views.shape[2])
    diff = np.concatenate([diff, np.zeros((len(diff), 2))], 1)  # the log sides do not change
    xm, ym = x.mean(0), y.mean(0)
    xc, yc = x - xm, y - ym
    weight = lam * len(x) / len(diff)
    w = np.linalg.solve(xc.T @ xc + ALPHA * np.eye(x.shape[1]) + weight * diff.T @ diff, xc.T @ yc)  # (D + 2, 4)
    return BoxHead(base.mean, base.scale, w.T, ym - xm @ w, SHRINK, info={"lambda": lam})


def choose(args) -> None:
    d = dict(np.load(args.out / "wider-views.npz"))
    half = hash_part(d["names"], 0.5, seed="lnet_anet-face-verifier-v1")  # "tune" = fit, "val" = choose
    fit = d["has"] & (half[d["image"]] == "tune")
    choose_images = np.flatnonzero(half == "val")
    truth = wider_truth(d["names"][choose_images])
    z = np.load(args.chips)
    predictor = Predictor.load(args.bundle)
    heads = {"fixed face box": None,
             "A (clean)": BoxHead.fit(d["box"][fit & (d["view"] == 0)], d["feature"][fit & (d["view"] == 0)],
                                      d["target"][fit & (d["view"] == 0)], alpha=ALPHA, shrink=SHRINK),
             "B (clean + photometric)": BoxHead.fit(d["box"][fit], d["feature"][fit], d["target"][fit], alpha=ALPHA,
                                                    shrink=SHRINK)}  # fmt: skip
    if args.round == 2:
        pairs, clean = fit & (d["view"] == 0), (d["view"] == 0) & (half[d["image"]] == "tune")
        heads = {k: v for k, v in heads.items() if k != "B (clean + photometric)"}
        heads.update({f"round 2, lambda {lam:g}": invariant_head(d, pairs, clean, lam) for lam in LAMBDAS})
    table = {}
    for name, head in heads.items():
        table[name] = {"clean": wider_figures(head, d, d["view"] == 0, choose_images, truth),
                       "photometric": photometric_figures(head, d, choose_images, truth),
                       "stability": stability(head, z, predictor.localizer)}  # fmt: skip
        print(name, json.dumps(table[name]), flush=True)
    a = table["A (clean)"]
    if args.round == 2:
        meets = [k for k in table if k.startswith("round 2") and meets_first(table[k], a)]
        chosen = max(meets, key=lambda k: table[k]["stability"]["brightness_x1.5"]) if meets else None
        print("chosen:", chosen)
        b = table[chosen] if chosen else None
    else:
        chosen, b = "B (clean + photometric)", table["B (clean + photometric)"]
    if b is None:
        (args.out / "choose-round2.json").write_text(json.dumps({"figures": table, "verdict": "none meets criterion 1"},
                                                                indent=1))  # fmt: skip
        return
    first = meets_first(b, a)
    second = (all(b["stability"][p] > a["stability"][p] for p in ("brightness_x1.5", "grayscale"))
              and all(b["stability"][p] >= a["stability"][p] - 0.005 for p in a["stability"]))  # fmt: skip
    verdict = {"chosen": chosen, "criterion_1": bool(first), "criterion_2": bool(second), "B_ships": bool(first and second),
               "fit_pairs": {"A": int((fit & (d["view"] == 0)).sum()), "B": int(fit.sum())}}  # fmt: skip
    print(json.dumps(verdict))
    (args.out / ("choose.json" if args.round == 1 else "choose-round2.json")).write_text(json.dumps({"figures": table, "verdict": verdict}, indent=1))


def meets_first(b: dict, a: dict) -> bool:
    """RULE.md's criterion 1: clean choose-half AP50 and op recall each >= A's - 0.005."""
    return b["clean"]["ap50"] >= a["clean"]["ap50"] - 0.005 and b["clean"]["op_recall"] >= a["clean"]["op_recall"] - 0.005


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=("collect", "choose"))
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--datasets", type=Path, default=datasets_root(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--chips", type=Path, default=REPO / "runs" / "region-head" / "views.npz")
    ap.add_argument("--round", type=int, choices=(1, 2), default=1, help="choose: RULE.md's round")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    {"collect": collect, "choose": choose}[args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
