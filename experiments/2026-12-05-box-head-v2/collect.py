"""The data of the box-head-v2 study (RULE.md; issue 14), from the repository root.

    PYTHONPATH=. python experiments/2026-12-05-box-head-v2/collect.py dump --out runs/box-head-v2/dump.pkl
    PYTHONPATH=. python experiments/2026-12-05-box-head-v2/collect.py pairs --part fit --out runs/box-head-v2/pairs-fit.npz

dump: one pass of a bundle (default: the embedded one) through `Predictor.analyse` over the WIDER
tune photos and the tune grids, keeping each returned face's fixed face box, ANet feature as the
box head reads it (Predictor._refine_boxes' inputs), LNet score and reported box. The box another
head would report is then exact: head.correct(fixed, feature) clipped to the picture.

pairs: (fixed face box, ANet feature of its region, labelled face box) triples to fit box heads
on, from the WIDER tune photos of --part (fit: the fit half; all: both halves) and the fit grids
(--grids): the opened localizer's candidates centred on exactly one face that counts (the shipped
recipe, lnet_anet.cli.fit_box_head) and jittered face boxes around every face that counts; plus
the exposure-view feature changes of the WIDER candidates (the invariance penalty's data).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lnet_anet.cli.fit_box_head import labelled_pairs
from lnet_anet.data import datasets_root
from lnet_anet.data.images import load_image
from lnet_anet.data.readers.detection import hash_part, mark_small, read_box_csv, read_wider_txt
from lnet_anet.data.transforms import exposure_view
from lnet_anet.inference.box_head import jittered_boxes
from lnet_anet.inference.predictor import JUDGE_PAD, Predictor
from lnet_anet.metrics.detection import truth_from_table

HALF_SEED = "lnet_anet-face-verifier-v1"  # the face and box heads' fit / choose halves of the WIDER tune part
SOURCES = ("wider_candidate", "wider_jitter", "grid_candidate", "grid_jitter")


def wider_tune(root: Path):
    """The WIDER tune part (hash_part), faces under 24 px marked don't-care, with each photo's half."""
    table = read_wider_txt(next((root / "wider_face_train" / "wider_face_split").glob("*_bbx_gt.txt")))
    table = mark_small(table[hash_part(table["name"]) == "tune"].reset_index(drop=True), 24.0)
    table["half"] = hash_part(table["name"], 0.5, seed=HALF_SEED)  # "tune": fit half, "val": choose half
    return table


def grid_table(folder: Path):
    return mark_small(read_box_csv(folder / "faces.csv"), 24.0)


def dump(pred: Predictor, paths: list[str], truth: list, desc: str) -> list[dict]:
    captured: list = []
    inner = pred._refine_boxes

    def hook(faces, features, shown_in):  # Predictor._refine_boxes(faces, judged features, shown_in)
        fixed = np.stack([pred.face_box(region, img.shape[:2]) for img, region, *_ in faces])
        captured.append((fixed, np.asarray(features, np.float32), np.array([f[2] for f in faces])))
        return inner(faces, features, shown_in)

    pred._refine_boxes = hook
    rows = []
    for path, t in zip(tqdm(paths, desc=desc, mininterval=15), truth, strict=True):
        captured.clear()
        rec = pred.analyse(path).record
        if rec.get("error"):
            print(f"{path}: {rec['error']}", file=sys.stderr)
        fixed, feats, scores = captured[0] if captured else (np.zeros((0, 4)), np.zeros((0, 0), np.float32), np.zeros(0))
        rows.append({"path": path, "hw": (rec.get("height"), rec.get("width")), "fixed": fixed, "features": feats,
                     "scores": scores, "reported": np.array([f["box"] for f in rec["faces"]]).reshape(-1, 4),
                     "truth": t})  # fmt: skip
    pred._refine_boxes = inner
    return rows


def pairs(pred: Predictor, paths, truth, jitters: int, views: int, rng: np.random.Generator, desc: str,
          pair_views: int = 0) -> dict:
    """Candidate and jittered pairs of the photos (and, when views > 0, their candidates' exposure
    changes; with pair_views > 0, every pair's region read in that many exposure views of its
    photo: view_changes, view_of; round 3)."""
    out: dict[str, list] = {"boxes": [], "features": [], "targets": [], "source": [], "changes": [], "change_of": [],
                            "view_changes": [], "view_of": []}  # fmt: skip
    rows = 0  # pairs so far: change_of gives each change's pair row (-1: a candidate on no face)
    prefix = "wider" if desc == "wider" else "grid"
    for path, (faces, dont_care) in zip(tqdm(paths, desc=desc, mininterval=15), truth, strict=True):
        try:
            image = load_image(path)
        except Exception as e:  # noqa: BLE001 - reported, the others go on
            print(f"{path}: skipped ({e})", file=sys.stderr)
            continue
        hw = image.shape[:2]
        first, photo_regions = rows, []  # this photo's pairs: rows first.., their regions
        regions, _, found = pred.candidates(image)
        if len(regions):  # the shipped recipe's pairs (fit_box_head)
            fixed = np.stack([pred.face_box(r, hw) for r in regions])
            keep, targets = labelled_pairs(fixed, faces, dont_care)
            out["boxes"].append(fixed[keep])
            out["features"].append(found[keep])
            out["targets"].append(targets[keep])
            out["source"] += [SOURCES.index(f"{prefix}_candidate")] * int(keep.sum())
            row_of = np.where(keep, rows + np.cumsum(keep) - 1, -1)
            rows += int(keep.sum())
            photo_regions.append(regions[keep])
            for _ in range(views):
                view = exposure_view(image, rng)[1]
                out["changes"].append(pred.anet_features(view, regions, kind="region", pad=JUDGE_PAD) - found)
                out["change_of"].append(row_of)
        counted = faces[~dont_care]
        if jitters and len(counted):
            boxes = np.concatenate([jittered_boxes(f, jitters, rng) for f in counted])
            targets = np.repeat(counted, jitters, axis=0)
            regions = np.stack([pred.localizer.to_region(b) for b in boxes])
            fixed = np.stack([pred.face_box(r, hw) for r in regions])
            ok = (fixed[:, 2] - fixed[:, 0] > 2) & (fixed[:, 3] - fixed[:, 1] > 2)  # not clipped away
            out["boxes"].append(fixed[ok])
            out["features"].append(pred.anet_features(image, regions[ok], kind="region", pad=JUDGE_PAD))
            out["targets"].append(targets[ok])
            out["source"] += [SOURCES.index(f"{prefix}_jitter")] * int(ok.sum())
            rows += int(ok.sum())
            photo_regions.append(regions[ok])
        if pair_views and rows > first:
            held = np.concatenate(photo_regions)
            base = pred.anet_features(image, held, kind="region", pad=JUDGE_PAD)
            for _ in range(pair_views):
                view = exposure_view(image, rng)[1]
                out["view_changes"].append(pred.anet_features(view, held, kind="region", pad=JUDGE_PAD) - base)
                out["view_of"].append(np.arange(first, rows))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("job", choices=("dump", "pairs"))
    ap.add_argument("--part", choices=("fit", "all"), default="fit", help="pairs: the WIDER tune photos read")
    ap.add_argument("--bundle", default=None, help="default: the embedded bundle")
    ap.add_argument("--grids", type=Path, default=Path("runs/box-head-v2/fit-grids"), help="pairs: the fit grids")
    ap.add_argument("--tune-grids", type=Path, default=Path("runs/face-grids/tune"), help="dump: the tune grids")
    ap.add_argument("--jitter", type=int, default=12, help="pairs: jittered boxes per WIDER face")
    ap.add_argument("--grid-jitter", type=int, default=4, help="pairs: jittered boxes per grid face")
    ap.add_argument("--pair-views", type=int, default=0, help="pairs: exposure views of every pair (round 3)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many images of each set (a smoke run)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    pred = Predictor.load(args.bundle)
    wider = wider_tune(datasets_root())
    t0 = time.time()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.job == "dump":
        grids = grid_table(args.tune_grids)
        out = {"bundle": args.bundle or "embedded", "box_head": pred.box_head.info,
               "wider_half": wider["half"].tolist()[: args.limit],
               "wider": dump(pred, wider["path"].tolist()[: args.limit], truth_from_table(wider)[: args.limit], "wider"),
               "grids": dump(pred, grids["path"].tolist()[: args.limit], truth_from_table(grids)[: args.limit], "grids")}  # fmt: skip
        out["seconds"] = time.time() - t0
        args.out.write_bytes(pickle.dumps(out))
    else:
        rng = np.random.default_rng(0)
        part = wider if args.part == "all" else wider[wider["half"] == "tune"]
        got = pairs(pred, part["path"].tolist()[: args.limit], truth_from_table(part)[: args.limit], args.jitter, 2, rng,
                    "wider", args.pair_views)  # fmt: skip
        grids = grid_table(args.grids)
        more = pairs(pred, grids["path"].tolist()[: args.limit], truth_from_table(grids)[: args.limit],
                     args.grid_jitter, 0, rng, "grids", args.pair_views)  # fmt: skip
        offset = sum(len(b) for b in got["boxes"])  # the grid pairs' rows follow the WIDER ones
        views = {"view_changes": np.concatenate(got["view_changes"] + more["view_changes"]),
                 "view_of": np.concatenate(got["view_of"] + [v + offset for v in more["view_of"]])} if args.pair_views else {}  # fmt: skip
        arrays = {k: np.concatenate(got[k] + more[k]) for k in ("boxes", "features", "targets")}
        np.savez_compressed(args.out, **arrays, source=np.array(got["source"] + more["source"]),
                            changes=np.concatenate(got["changes"]), change_of=np.concatenate(got["change_of"]),
                            seconds=time.time() - t0, **views)  # fmt: skip
        print({s: int(np.sum(np.array(got["source"] + more["source"]) == i)) for i, s in enumerate(SOURCES)})
    print(f"{args.out}: {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
